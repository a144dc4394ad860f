/**
 * The attempt log's vocabulary (the Release 2 contract's names): what the deliverer records of each
 * attempt, and how `GET /links/{linkId}/deliveries` reads them back.
 */

/** `failed` carries an `httpStatus` or an `error`; `gone` is a 410. */
export type AttemptOutcome = 'delivered' | 'failed' | 'gone';
/** Why an attempt has no HTTP status. */
export type AttemptError = 'timeout' | 'connection' | 'refused-address';
/** `pending`: not delivered yet, retrying; `disabled`: kept because the subscriber is disabled. */
export type DeliveryState = 'pending' | 'delivered' | 'dead-lettered' | 'disabled';

export interface AttemptDetail {
  outcome: AttemptOutcome;
  httpStatus?: number;
  error?: AttemptError;
  latencyMs?: number;
  /** Epoch ms: when SQS hands the message back for the next attempt. */
  nextAttemptAt?: number;
}

/**
 * One item of the log: an attempt, or (without `attempt`) a delivery that changed state without one
 * (kept in the dead-letter queue because its subscriber is disabled, or dead-lettered after an
 * unexpected failure). `state` is the delivery's state once this item is written.
 */
export interface DeliveryRecord {
  linkId: string;
  eventId: string;
  sequence: number;
  /** The webhook `type` (`payout_link.claimed`). */
  type: string;
  subscriber: string;
  /** The SQS message and its receive count: a resend or a redrive is a new message. */
  messageId: string;
  receiveCount: number;
  /** Epoch ms. */
  at: number;
  state: DeliveryState;
  attempt?: AttemptDetail;
}

/** One delivery as the contract shows it: an event to a subscriber, its state and its attempts. */
export interface DeliveryView {
  eventId: string;
  sequence: number;
  type: string;
  subscriber: string;
  state: DeliveryState;
  attempts: Array<{
    attempt: number;
    at: string;
    outcome: AttemptOutcome;
    httpStatus?: number;
    error?: AttemptError;
    latencyMs?: number;
    nextAttemptAt?: string;
  }>;
}

/**
 * The log's items of one link as deliveries, per (event, subscriber), by sequence then subscriber:
 * the state is the newest item's; attempts are numbered in time order, resends included.
 */
export function deliveriesOf(records: readonly DeliveryRecord[]): DeliveryView[] {
  const groups = new Map<string, DeliveryRecord[]>();
  for (const record of records) {
    const key = `${record.eventId}#${record.subscriber}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  const views = [...groups.values()].map((group): DeliveryView => {
    const ordered = [...group].sort((a, b) => a.at - b.at || a.receiveCount - b.receiveCount);
    const newest = ordered.at(-1)!;
    const attempts = ordered.filter((record) => record.attempt !== undefined);
    return {
      eventId: newest.eventId,
      sequence: newest.sequence,
      type: newest.type,
      subscriber: newest.subscriber,
      state: newest.state,
      attempts: attempts.map((record, index) => {
        const { outcome, httpStatus, error, latencyMs, nextAttemptAt } = record.attempt!;
        return {
          attempt: index + 1,
          at: new Date(record.at).toISOString(),
          outcome,
          ...(httpStatus === undefined ? {} : { httpStatus }),
          ...(error === undefined ? {} : { error }),
          ...(latencyMs === undefined ? {} : { latencyMs }),
          ...(nextAttemptAt === undefined ? {} : { nextAttemptAt: new Date(nextAttemptAt).toISOString() }),
        };
      }),
    };
  });
  return views.sort((a, b) => a.sequence - b.sequence || a.subscriber.localeCompare(b.subscriber));
}

/** A subscriber URL as the API shows it: scheme, host (and port) and path; never credentials or a query. */
export function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(not a URL)';
  }
}
