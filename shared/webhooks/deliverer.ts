import type { Clock } from '#shared/clock.ts';
import type { JsonSecret } from '#shared/credentials/json-secret.ts';
import type { LinkEventDetail } from '#shared/link/link-event.ts';
import type { EmfWriter } from '#shared/observability/emf.ts';
import type { Log } from '#shared/observability/log.ts';
import { METRICS } from '#shared/observability/metric-names.ts';
import * as z from '#shared/zod.ts';
import {
  type AttemptResult,
  type Decision,
  type DeliveryNetwork,
  decide,
  postWebhook,
  type RetryPolicy,
  retryDelaySeconds,
} from './delivery.ts';
import type { DeliveryTarget } from './delivery-config.ts';
import type { DeliveryQueue, QueuedDelivery } from './delivery-queue.ts';
import type { AttemptDetail, DeliveryRecord, DeliveryState } from './delivery-record.ts';
import { RETRY_WINDOW_MS } from './routing.ts';
import type { SubscriberState } from './subscriber-state.ts';
import { webhookBody, webhookType } from './webhook-body.ts';
import { activeSecrets, type WebhookSecret } from './webhook-secret.ts';

/** The part of an EventBridge event the delivery needs; the rest of `detail` is passed through. */
const BusEventSchema = z.looseObject({
  'detail-type': z.string().check(z.minLength(1)),
  detail: z.looseObject({
    eventId: z.string().check(z.minLength(1)),
    linkId: z.string().check(z.minLength(1)),
    status: z.string().check(z.minLength(1)),
    observedAt: z.string().check(z.minLength(1)),
  }),
});

/** Where each attempt is recorded: the attempt log (`DeliveryLog`), one write per record. */
export interface AttemptRecorder {
  record(record: DeliveryRecord): Promise<void>;
}

/** The subscriber's disabled flag (`SubscriberStateStore`). */
export interface SubscriberSwitchboard {
  get(name: string, now?: number, options?: { fresh?: boolean }): Promise<SubscriberState>;
  set(name: string, state: SubscriberState, now?: number): Promise<void>;
}

export interface DelivererDeps {
  targets: readonly DeliveryTarget[];
  queue: DeliveryQueue;
  state: SubscriberSwitchboard;
  attempts: AttemptRecorder;
  secretFor: (target: DeliveryTarget) => JsonSecret<WebhookSecret>;
  log: Log;
  metrics: EmfWriter;
  clock: Clock;
  random?: () => number;
  /** Compresses the backoff (see `RetryPolicy`): the local cloud's `SCHEDULE_SCALE`, 1 in every deployed stage. */
  backoffScale?: number;
  timeoutMs?: number;
  /** Receivers on loopback: the local stage only (`loopbackAllowedIn`). Default: refused. */
  allowLoopback?: boolean;
  resolve?: DeliveryNetwork['resolve'];
  agents?: DeliveryNetwork['agents'];
}

/** A subscriber's delivery of one queued event: done with (delivered, dead-lettered, kept), or to be retried. */
export interface Deliverer {
  /** The subscriber whose queue this is, or `undefined` for a queue of no known subscriber. */
  targetOf(queueArn: string): DeliveryTarget | undefined;
  /** Never throws: an unexpected failure backs off like a failed attempt. Answers whether the message is done with. */
  deliver(target: DeliveryTarget, message: QueuedDelivery): Promise<boolean>;
}

/**
 * The delivery use case: one message is one event for one subscriber. Delivered messages are done
 * with; failed ones are held for the next retry; past the retry window, or for a subscriber that
 * answered 410, they go to its dead-letter queue for a redrive. Each attempt is recorded once.
 */
export function createDeliverer(deps: DelivererDeps): Deliverer {
  const byQueue = new Map(deps.targets.map((target) => [target.queueArn, target]));
  const policy: RetryPolicy = {
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.backoffScale === undefined ? {} : { scale: deps.backoffScale }),
  };

  /**
   * Disabled (a 410 Gone) until an operator enables it again. The cached state is enough to deliver;
   * before a delivery is kept as disabled the table is read again, so a container that cached
   * "disabled" before the subscriber was enabled does not send the redriven deliveries straight back.
   */
  async function isDisabled(name: string): Promise<boolean> {
    if (!(await deps.state.get(name, deps.clock.now())).disabled) return false;
    return (await deps.state.get(name, deps.clock.now(), { fresh: true })).disabled;
  }

  /** Records, never failing the delivery: the attempt happened whatever the log says (its line is logged). */
  async function record(
    target: DeliveryTarget,
    message: QueuedDelivery,
    event: { detailType: string; detail: LinkEventDetail },
    state: DeliveryState,
    at: number,
    attempt?: AttemptDetail,
  ): Promise<void> {
    const { detail } = event;
    try {
      await deps.attempts.record({
        linkId: detail.linkId,
        eventId: detail.eventId,
        sequence: typeof detail.sequence === 'number' ? detail.sequence : 0,
        type: webhookType(event.detailType, detail.status),
        subscriber: target.name,
        messageId: message.messageId,
        receiveCount: message.receiveCount,
        at,
        state,
        ...(attempt ? { attempt } : {}),
      });
    } catch (error) {
      deps.log.error('delivery attempt not recorded in the attempt log', {
        subscriber: target.name,
        webhookId: detail.eventId,
        linkId: detail.linkId,
        attempt: message.receiveCount,
        state,
        outcome: attempt?.outcome,
        error: error instanceof Error ? error.name : typeof error,
      });
    }
  }

  async function attempt(target: DeliveryTarget, message: QueuedDelivery): Promise<boolean> {
    const parsed = BusEventSchema.safeParse(safeJson(message.body));
    if (!parsed.success) {
      await deps.queue.deadLetter(target, message, 'not an event of the tracker');
      deps.log.error('undeliverable message moved to the dead-letter queue', {
        subscriber: target.name,
        messageId: message.messageId,
      });
      return true;
    }
    const event = {
      detailType: parsed.data['detail-type'],
      detail: parsed.data.detail as unknown as LinkEventDetail,
    };
    const { detail } = event;
    const context = {
      subscriber: target.name,
      webhookId: detail.eventId,
      linkId: detail.linkId,
      attempt: message.receiveCount,
    };

    if (await isDisabled(target.name)) {
      await deps.queue.deadLetter(target, message, 'subscriber disabled');
      deps.log.warn('subscriber disabled: delivery kept in the dead-letter queue', context);
      await record(target, message, event, 'disabled', deps.clock.now());
      return true;
    }

    const now = deps.clock.now();
    const secrets = activeSecrets(await deps.secretFor(target).get(), now);
    const result = await postWebhook({
      url: target.url,
      id: detail.eventId,
      body: webhookBody(event.detailType, detail),
      secrets,
      timestampSeconds: Math.floor(now / 1000),
      allowLoopback: deps.allowLoopback ?? false,
      ...(deps.timeoutMs === undefined ? {} : { timeoutMs: deps.timeoutMs }),
      ...(deps.resolve ? { resolve: deps.resolve } : {}),
      ...(deps.agents ? { agents: deps.agents } : {}),
    });
    const decided = deps.clock.now();
    const decision = decide(result, message.receiveCount, message.firstSentAt, decided, policy);
    const logged = {
      ...context,
      status: result.status ?? null,
      error: result.error,
      ...(result.refusal ? { refusal: result.refusal } : {}),
      latencyMs: Math.round(result.latencyMs),
    };
    // One EMF line per delivery, both metrics per subscriber (the dashboard graphs them so).
    deps.metrics.publish(
      [
        { ...METRICS.webhookLatencyMs, values: [result.latencyMs] },
        {
          ...(decision.kind === 'delivered' ? METRICS.webhookDelivered : METRICS.webhookFailed),
          values: [1],
        },
      ],
      { subscriber: target.name },
    );

    const done = await act(target, message, decision, result, logged, now);
    await record(target, message, event, stateAfter(decision), now, attemptOf(result, decision, decided));
    return done;
  }

  /** Carries out the decision on the queue (and the subscriber's flag); answers whether the message is done with. */
  async function act(
    target: DeliveryTarget,
    message: QueuedDelivery,
    decision: Decision,
    result: AttemptResult,
    logged: Record<string, unknown>,
    now: number,
  ): Promise<boolean> {
    switch (decision.kind) {
      case 'delivered':
        deps.log.info('webhook delivered', logged);
        return true;
      case 'gone':
        await deps.state.set(target.name, {
          disabled: true,
          disabledAt: new Date(now).toISOString(),
          reason: 'HTTP 410 Gone',
        });
        await deps.queue.deadLetter(target, message, 'HTTP 410 Gone');
        deps.log.error(
          'SUBSCRIBER DISABLED: it answered 410 Gone; deliveries stop and are kept for redrive',
          logged,
        );
        return true;
      case 'dead':
        await deps.queue.deadLetter(target, message, `retried for 24 hours; last: ${decision.reason}`);
        deps.log.error('webhook gave up after the retry window: moved to the dead-letter queue', {
          ...logged,
          reason: decision.reason,
        });
        return true;
      case 'retry': {
        await deps.queue.retryIn(target, message, decision.delaySeconds);
        const retrying = { ...logged, reason: decision.reason, retryInSeconds: decision.delaySeconds };
        // A refused address is a configuration an operator must fix, not a subscriber having a bad day.
        if (result.error === 'refused-address')
          deps.log.error('WEBHOOK NOT SENT: the subscriber URL is refused; will retry', retrying);
        else deps.log.warn('webhook failed; will retry', retrying);
        return false;
      }
    }
  }

  /**
   * After an unexpected failure (a secret or the table unreachable): past the retry window the
   * message goes to the dead-letter queue as a failed delivery would; before it, back off on the
   * delivery schedule. Returns whether the message is done with.
   */
  async function retryLater(target: DeliveryTarget, message: QueuedDelivery): Promise<boolean> {
    const now = deps.clock.now();
    if (now - message.firstSentAt >= RETRY_WINDOW_MS) {
      const moved = await deps.queue
        .deadLetter(target, message, 'retried for 24 hours; last: unexpected failure')
        .then(
          () => true,
          () => false,
        );
      if (moved) {
        deps.log.error('webhook gave up after the retry window: moved to the dead-letter queue', {
          subscriber: target.name,
          messageId: message.messageId,
          attempt: message.receiveCount,
          reason: 'unexpected failure',
        });
        const parsed = BusEventSchema.safeParse(safeJson(message.body));
        if (parsed.success) {
          const detail = parsed.data.detail as unknown as LinkEventDetail;
          const event = { detailType: parsed.data['detail-type'], detail };
          await record(target, message, event, 'dead-lettered', now);
        }
        return true;
      }
    }
    await deps.queue
      .retryIn(target, message, retryDelaySeconds(message.receiveCount, now - message.firstSentAt, policy))
      .catch(() => {
        // The queue's own visibility timeout brings the message back anyway.
      });
    return false;
  }

  return {
    targetOf: (queueArn) => byQueue.get(queueArn),
    async deliver(target, message) {
      try {
        return await attempt(target, message);
      } catch (error) {
        deps.log.error('delivery failed unexpectedly; the message will be retried', {
          subscriber: target.name,
          messageId: message.messageId,
          error: error instanceof Error ? error.name : typeof error,
          message: error instanceof Error ? error.message : undefined,
        });
        return retryLater(target, message);
      }
    },
  };
}

/** The delivery's state once the decision is carried out. */
function stateAfter(decision: Decision): DeliveryState {
  switch (decision.kind) {
    case 'delivered':
      return 'delivered';
    case 'gone':
      return 'disabled';
    case 'dead':
      return 'dead-lettered';
    case 'retry':
      return 'pending';
  }
}

/** The attempt as the log keeps it: outcome, status or error class, latency, when the next one is due. */
function attemptOf(result: AttemptResult, decision: Decision, decidedAt: number): AttemptDetail {
  return {
    outcome: decision.kind === 'delivered' ? 'delivered' : decision.kind === 'gone' ? 'gone' : 'failed',
    ...(result.status === undefined ? {} : { httpStatus: result.status }),
    ...(result.status === undefined ? { error: result.error ?? 'connection' } : {}),
    latencyMs: Math.round(result.latencyMs),
    ...(decision.kind === 'retry' ? { nextAttemptAt: decidedAt + decision.delaySeconds * 1000 } : {}),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
