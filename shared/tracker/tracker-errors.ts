/** The tracker has never seen this link (events, unwatch). */
export class LinkNotTrackedError extends Error {
  override readonly name = 'LinkNotTrackedError';
  constructor(readonly linkId: string) {
    super(`The link ${linkId} is not tracked.`);
  }
}

/** Other writers kept changing the link while this one tried to record; safe to retry. */
export class ConcurrentUpdateError extends Error {
  override readonly name = 'ConcurrentUpdateError';
  constructor(readonly linkId: string) {
    super(`The link ${linkId} kept changing while this check was recorded; try again.`);
  }
}

/** The request is not valid: names the field and what is wrong with it, never echoes large input. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}
