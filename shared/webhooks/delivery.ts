import { parseRetryAfter } from '#shared/instantpay/client.ts';
import {
  DELIVERY_TIMEOUT_MS,
  MAX_VISIBILITY_SECONDS,
  RETRY_BASE_DELAYS_SECONDS,
  RETRY_WINDOW_MS,
} from './routing.ts';
import { signatureHeader } from './signing.ts';

export const USER_AGENT = 'payout-link-tracker-webhooks/1.0';

export interface AttemptResult {
  /** The HTTP status, when the subscriber answered. */
  status?: number;
  retryAfter?: string | null;
  /** Why there was no answer. */
  error?: 'timeout' | 'network';
  latencyMs: number;
}

/**
 * One signed POST to a subscriber: the Standard Webhooks headers, a 15 s timeout, redirects not
 * followed (a 3xx is an answer like any other). The body is read and dropped so the connection is
 * reused.
 */
export async function postWebhook(request: {
  url: string;
  id: string;
  body: string;
  secrets: readonly string[];
  timestampSeconds: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): Promise<AttemptResult> {
  const started = performance.now();
  try {
    const response = await (request.fetch ?? fetch)(request.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': request.id,
        'webhook-timestamp': String(request.timestampSeconds),
        'webhook-signature': signatureHeader(
          request.id,
          request.timestampSeconds,
          request.body,
          request.secrets,
        ),
      },
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(request.timeoutMs ?? DELIVERY_TIMEOUT_MS),
    });
    await response.arrayBuffer().catch(() => undefined);
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      latencyMs: performance.now() - started,
    };
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    return {
      error: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network',
      latencyMs: performance.now() - started,
    };
  }
}

export type Decision =
  | { kind: 'delivered' }
  /** 410 Gone: the subscriber asked to stop. */
  | { kind: 'gone' }
  | { kind: 'retry'; delaySeconds: number; reason: string }
  /** Retried for the whole window: to the dead-letter queue, for an operator to redrive. */
  | { kind: 'dead'; reason: string };

/**
 * What to do after an attempt: 2xx is delivered; 410 stops the subscriber; 429 and 5xx honour
 * `Retry-After`; everything else (other statuses, timeouts, network errors) is retried with
 * exponential backoff and full jitter, until the message is older than the retry window.
 */
export function decide(
  result: AttemptResult,
  attempt: number,
  firstSentAt: number,
  now: number,
  random: () => number = Math.random,
): Decision {
  const { status } = result;
  if (status !== undefined && status >= 200 && status <= 299) return { kind: 'delivered' };
  if (status === 410) return { kind: 'gone' };
  const reason = status === undefined ? (result.error ?? 'network') : `HTTP ${status}`;
  if (now - firstSentAt >= RETRY_WINDOW_MS) return { kind: 'dead', reason };
  const asked =
    status === 429 || (status !== undefined && status >= 500)
      ? parseRetryAfter(result.retryAfter ?? null, now)
      : undefined;
  const delaySeconds = asked ?? backoffSeconds(attempt, random);
  return { kind: 'retry', delaySeconds: Math.min(delaySeconds, MAX_VISIBILITY_SECONDS), reason };
}

/** Full jitter over the base delay of attempt `n` (1-based); at least one second. */
export function backoffSeconds(attempt: number, random: () => number = Math.random): number {
  const index = Math.min(Math.max(attempt, 1), RETRY_BASE_DELAYS_SECONDS.length) - 1;
  const base = RETRY_BASE_DELAYS_SECONDS[index] ?? MAX_VISIBILITY_SECONDS;
  return Math.max(1, Math.round(random() * base));
}
