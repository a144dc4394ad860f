import {
  MalformedSecretError,
  SecretNotConfiguredError,
  SecretUnavailableError,
} from '#shared/credentials/secret-errors.ts';
import {
  InvalidLinkIdError,
  LinkNotFoundError,
  UpstreamCredentialsError,
  UpstreamProtocolError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from '#shared/instantpay/errors.ts';
import {
  ConcurrentUpdateError,
  InvalidRequestError,
  LinkNotTrackedError,
} from '#shared/tracker/tracker-errors.ts';
import type { Problem } from './problem.schema.ts';

/** An RFC 9457 problem; its schema, a published contract, is in `problem.schema.ts`. */
export type { Problem };

export interface ProblemResponse {
  problem: Problem;
  retryAfterSeconds?: number;
  /** For 405. */
  allow?: readonly string[];
}

const TYPE_BASE = 'urn:payout-link-tracker:problem:';

export function problem(
  status: number,
  slug: string,
  title: string,
  detail: string,
  extra: Partial<Pick<Problem, 'linkId' | 'errors'>> = {},
): Problem {
  return { type: `${TYPE_BASE}${slug}`, title, status, detail, ...extra };
}

/**
 * The one mapping from the core's typed errors to HTTP problems. Anything unknown is a 500 that says
 * nothing about its cause (the cause goes to the log, not the response).
 */
export function problemFor(error: unknown, linkId?: string): ProblemResponse {
  const withLink = linkId === undefined ? {} : { linkId };
  if (error instanceof InvalidLinkIdError) {
    return { problem: problem(400, 'invalid-link-id', 'Invalid link id', error.message) };
  }
  if (error instanceof InvalidRequestError) {
    return {
      problem: problem(400, 'invalid-request', 'Invalid request', error.message, {
        errors: [...error.problems],
      }),
    };
  }
  if (error instanceof LinkNotFoundError) {
    return {
      problem: problem(
        404,
        'link-not-found',
        'Link not found',
        'InstantPay does not know this link.',
        withLink,
      ),
    };
  }
  if (error instanceof LinkNotTrackedError) {
    return {
      problem: problem(
        404,
        'link-not-tracked',
        'Link not tracked',
        'The tracker has never tracked this link.',
        withLink,
      ),
    };
  }
  if (error instanceof UpstreamCredentialsError) {
    return {
      problem: problem(
        502,
        'upstream-credentials-rejected',
        'InstantPay rejected the tracker credentials',
        'An operator must update the InstantPay secret; retrying will not help until then.',
        withLink,
      ),
    };
  }
  if (error instanceof SecretNotConfiguredError || error instanceof MalformedSecretError) {
    return {
      problem: problem(
        502,
        'upstream-credentials-not-configured',
        'InstantPay credentials are not configured',
        'An operator must set the InstantPay secret of this stage.',
        withLink,
      ),
    };
  }
  if (error instanceof UpstreamRejectedError || error instanceof UpstreamProtocolError) {
    return {
      problem: problem(
        502,
        'upstream-bad-answer',
        'InstantPay gave an answer the tracker cannot use',
        `InstantPay answered ${error.statuscode ? `statuscode ${error.statuscode}` : 'with an unexpected body'}.`,
        withLink,
      ),
    };
  }
  if (error instanceof UpstreamUnavailableError) {
    return {
      problem: problem(
        503,
        'upstream-unavailable',
        'InstantPay is unavailable',
        `${unavailableDetail(error)} The stored status is unchanged; try again later.`,
        withLink,
      ),
      retryAfterSeconds: error.retryAfterSeconds,
    };
  }
  if (error instanceof ConcurrentUpdateError) {
    return {
      problem: problem(
        503,
        'busy',
        'The link is busy',
        'Other checks of this link were being recorded.',
        withLink,
      ),
      retryAfterSeconds: 1,
    };
  }
  if (error instanceof SecretUnavailableError || isAwsTransient(error)) {
    return {
      problem: problem(
        503,
        'dependency-unavailable',
        'Service temporarily unavailable',
        'Try again shortly.',
        withLink,
      ),
      retryAfterSeconds: 2,
    };
  }
  return {
    problem: problem(500, 'internal', 'Internal error', 'The request failed unexpectedly.', withLink),
  };
}

function unavailableDetail(error: UpstreamUnavailableError): string {
  switch (error.reason) {
    case 'timeout':
      return 'InstantPay did not answer in time.';
    case 'network':
      return 'InstantPay could not be reached.';
    case 'http-status':
      return `InstantPay answered HTTP ${error.httpStatus}.`;
    case 'statuscode':
      return `InstantPay answered ${error.statuscode} (pending or down).`;
  }
}

const TRANSIENT_AWS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
  'TimeoutError',
]);

/** SDK errors that say "later": throttling, a busy or unreachable service. */
function isAwsTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const fault = (error as { $fault?: string }).$fault;
  const code = (error as { code?: string }).code;
  return (
    TRANSIENT_AWS.has(error.name) ||
    fault === 'server' ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT'
  );
}
