/** The stage has no subscriber of this name (its name is checked against the subscriber name pattern first). */
export class SubscriberNotFoundError extends Error {
  override readonly name = 'SubscriberNotFoundError';
  constructor(readonly subscriber: string) {
    super(`The stage has no subscriber ${subscriber}.`);
  }
}

/** A resend to a subscriber disabled by a 410: it would only be kept in the dead-letter queue. */
export class SubscriberDisabledError extends Error {
  override readonly name = 'SubscriberDisabledError';
  constructor(
    readonly subscriber: string,
    readonly disabledAt: string | undefined,
  ) {
    super(`The subscriber ${subscriber} is disabled${disabledAt ? ` since ${disabledAt}` : ''}.`);
  }
}

/**
 * Some event ids of a resend are not events this subscriber receives: recorded by no change, or of a
 * detail-type or status its filters leave out. Counted, never echoed; nothing was queued.
 */
export class EventsNotFoundError extends Error {
  override readonly name = 'EventsNotFoundError';
  constructor(
    readonly requested: number,
    readonly unknown: number,
    readonly notReceived: number,
  ) {
    super(`${unknown + notReceived} of ${requested} event ids are not events this subscriber receives.`);
  }
}

/** Some events could not be put on the subscriber's queue after retries: nothing says which, so the whole resend may be repeated (receivers dedupe on `webhook-id`). */
export class QueueSendError extends Error {
  override readonly name = 'QueueSendError';
  constructor(
    readonly subscriber: string,
    readonly failed: number,
  ) {
    super(`${failed} events could not be queued for ${subscriber}.`);
  }
}
