/**
 * Every way a Track Link or List call can fail, as types the callers map: the API to problem+json,
 * the scheduled runs to a backoff. The client throws nothing else.
 */
export abstract class InstantPayError extends Error {
  abstract readonly kind:
    | 'invalid-link-id'
    | 'unavailable'
    | 'credentials'
    | 'link-not-found'
    | 'integration'
    | 'rejected'
    | 'protocol';
  /** The envelope's `statuscode`, when the upstream answered with one. */
  readonly statuscode: string | undefined;
  /** The HTTP status of the upstream answer, when there was one. */
  readonly httpStatus: number | undefined;

  constructor(message: string, details: { statuscode?: string; httpStatus?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.statuscode = details.statuscode;
    this.httpStatus = details.httpStatus;
  }
}

/** The id does not match `^[A-Za-z0-9_-]{1,64}$`; no request was made. */
export class InvalidLinkIdError extends InstantPayError {
  readonly kind = 'invalid-link-id';
  constructor(readonly linkId: string) {
    super('The link id must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-".');
  }
}

export type UnavailableReason = 'timeout' | 'network' | 'http-status' | 'statuscode';

/** Pending or transient: a timeout, a network failure, a 5xx or 429, `TUP` or a downtime code. Retry later. */
export class UpstreamUnavailableError extends InstantPayError {
  readonly kind = 'unavailable';
  constructor(
    message: string,
    readonly reason: UnavailableReason,
    /** Seconds the upstream asked for (HTTP `Retry-After`), else the client's suggestion. */
    readonly retryAfterSeconds: number,
    details: { statuscode?: string; httpStatus?: number; cause?: unknown } = {},
  ) {
    super(message, details);
  }
}

/** InstantPay rejected the credentials or the account (`IAC`, `IAT`, `IUA`, ...): an operator must fix the secret or the account. */
export class UpstreamCredentialsError extends InstantPayError {
  readonly kind = 'credentials';
}

/**
 * InstantPay refused the request itself (`RPI`, `IRT`, `VCI`, `OUE`): the tracker's client or its
 * configuration (the base URL, a path) is at fault, never the link. An operator must look.
 */
export class UpstreamIntegrationError extends InstantPayError {
  readonly kind = 'integration';
}

/** InstantPay does not know the link (`ITI` on Track Link). */
export class LinkNotFoundError extends InstantPayError {
  readonly kind = 'link-not-found';
  constructor(
    readonly linkId: string,
    details: { statuscode?: string; httpStatus?: number } = {},
  ) {
    super(`InstantPay does not know the link ${linkId}.`, details);
  }
}

/** A well-formed answer the tracker has no use for: a listed failure about something else, or a `statuscode` the table does not list. */
export class UpstreamRejectedError extends InstantPayError {
  readonly kind = 'rejected';
}

/** The answer is not JSON or not the documented shape. `excerpt` is short and safe to log. */
export class UpstreamProtocolError extends InstantPayError {
  readonly kind = 'protocol';
  constructor(
    message: string,
    readonly excerpt: string,
    details: { statuscode?: string; httpStatus?: number; cause?: unknown } = {},
  ) {
    super(message, details);
  }
}
