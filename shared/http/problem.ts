import {
  MalformedSecretError,
  SecretNotConfiguredError,
  SecretUnavailableError,
} from '#shared/credentials/secret-errors.ts';
import {
  InvalidLinkIdError,
  LinkNotFoundError,
  UpstreamCredentialsError,
  UpstreamIntegrationError,
  UpstreamProtocolError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from '#shared/instantpay/errors.ts';
import {
  ConcurrentUpdateError,
  InvalidRequestError,
  LinkNotTrackedError,
} from '#shared/tracker/tracker-errors.ts';
import {
  EventsNotFoundError,
  QueueSendError,
  SubscriberDisabledError,
  SubscriberNotFoundError,
} from '#shared/webhooks/delivery-errors.ts';
import type { Problem } from './problem.schema.ts';

/** An RFC 9457 problem; its schema, a published contract, is in `problem.schema.ts`. */
export type { Problem };

export interface ProblemResponse {
  problem: Problem;
  retryAfterSeconds?: number;
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

type ErrorClass<E> = abstract new (...args: never[]) => E;

/** How one kind of error is answered; a function of the error where the answer depends on it. */
interface Answer<E> {
  status: number;
  slug: string;
  title: string;
  detail: string | ((error: E) => string);
  retryAfterSeconds?: number | ((error: E) => number);
  /** For 400: which fields are wrong. */
  errors?: (error: E) => string[];
  /** `false` for a problem with the request itself: it names no link. */
  namesLink?: boolean;
}

interface ProblemRule {
  matches(error: unknown): boolean;
  answer(error: unknown, linkId: string | undefined): ProblemResponse;
}

function rule<C extends ErrorClass<Error>>(
  classes: readonly C[],
  answer: Answer<InstanceType<C>>,
): ProblemRule;
function rule<E>(guard: (error: unknown) => error is E, answer: Answer<E>): ProblemRule;
function rule<E>(
  match: readonly ErrorClass<E>[] | ((error: unknown) => error is E),
  answer: Answer<E>,
): ProblemRule {
  const matches =
    typeof match === 'function' ? match : (error: unknown) => match.some((type) => error instanceof type);
  return { matches, answer: (error, linkId) => respond(answer, error as E, linkId) };
}

function respond<E>(answer: Answer<E>, error: E, linkId: string | undefined): ProblemResponse {
  const detail = typeof answer.detail === 'function' ? answer.detail(error) : answer.detail;
  const extra = {
    ...(answer.errors ? { errors: answer.errors(error) } : {}),
    ...(answer.namesLink === false || linkId === undefined ? {} : { linkId }),
  };
  const retryAfter = answer.retryAfterSeconds;
  return {
    problem: problem(answer.status, answer.slug, answer.title, detail, extra),
    ...(retryAfter === undefined
      ? {}
      : { retryAfterSeconds: typeof retryAfter === 'function' ? retryAfter(error) : retryAfter }),
  };
}

/** The core's typed errors and their problems, the first match wins. */
const RULES: readonly ProblemRule[] = [
  rule([InvalidLinkIdError], {
    status: 400,
    slug: 'invalid-link-id',
    title: 'Invalid link id',
    detail: (error) => error.message,
    namesLink: false,
  }),
  rule([InvalidRequestError], {
    status: 400,
    slug: 'invalid-request',
    title: 'Invalid request',
    detail: (error) => error.message,
    errors: (error) => [...error.problems],
    namesLink: false,
  }),
  rule([LinkNotFoundError], {
    status: 404,
    slug: 'link-not-found',
    title: 'Link not found',
    detail: 'InstantPay does not know this link.',
  }),
  rule([LinkNotTrackedError], {
    status: 404,
    slug: 'link-not-tracked',
    title: 'Link not tracked',
    detail: 'The tracker has never tracked this link.',
  }),
  rule([SubscriberNotFoundError], {
    status: 404,
    slug: 'subscriber-not-found',
    title: 'Subscriber not found',
    detail: (error) => error.message,
    namesLink: false,
  }),
  rule([EventsNotFoundError], {
    status: 404,
    slug: 'events-not-found',
    title: 'Events not found',
    detail: (error) =>
      `${error.unknown} of ${error.requested} event ids are recorded by no change of this stage` +
      (error.notReceived > 0
        ? ` and ${error.notReceived} are events this subscriber's filters leave out`
        : '') +
      '. Nothing was queued.',
    namesLink: false,
  }),
  rule([SubscriberDisabledError], {
    status: 409,
    slug: 'subscriber-disabled',
    title: 'Subscriber disabled',
    detail: (error) =>
      `${error.message} Enable it (POST /subscribers/${error.subscriber}/enable) before resending; nothing was queued.`,
    namesLink: false,
  }),
  rule([UpstreamCredentialsError], {
    status: 502,
    slug: 'upstream-credentials-rejected',
    title: 'InstantPay rejected the tracker credentials',
    detail: 'An operator must update the InstantPay secret; retrying will not help until then.',
  }),
  rule([UpstreamIntegrationError], {
    status: 502,
    slug: 'upstream-integration-fault',
    title: "InstantPay refused the tracker's request",
    detail: (error) =>
      `InstantPay answered ${error.statuscode ?? 'an integration fault'}: the request the tracker sent, or its configuration, is at fault, not the link. An operator must look; retrying will not help until then.`,
  }),
  rule([SecretNotConfiguredError, MalformedSecretError], {
    status: 502,
    slug: 'upstream-credentials-not-configured',
    title: 'InstantPay credentials are not configured',
    detail: 'An operator must set the InstantPay secret of this stage.',
  }),
  rule([UpstreamRejectedError, UpstreamProtocolError], {
    status: 502,
    slug: 'upstream-bad-answer',
    title: 'InstantPay gave an answer the tracker cannot use',
    detail: (error) =>
      `InstantPay answered ${error.statuscode ? `statuscode ${error.statuscode}` : 'with an unexpected body'}.`,
  }),
  rule([UpstreamUnavailableError], {
    status: 503,
    slug: 'upstream-unavailable',
    title: 'InstantPay is unavailable',
    detail: (error) => `${unavailableDetail(error)} The stored status is unchanged; try again later.`,
    retryAfterSeconds: (error) => error.retryAfterSeconds,
  }),
  rule([ConcurrentUpdateError], {
    status: 503,
    slug: 'busy',
    title: 'The link is busy',
    detail: 'Other checks of this link were being recorded.',
    retryAfterSeconds: 1,
  }),
  rule([QueueSendError], {
    status: 503,
    slug: 'queue-unavailable',
    title: 'Events not queued',
    detail: (error) =>
      `${error.failed} events could not be put on the subscriber's queue. Try the whole request again: receivers dedupe on webhook-id.`,
    retryAfterSeconds: 2,
    namesLink: false,
  }),
  rule(isDependencyTransient, {
    status: 503,
    slug: 'dependency-unavailable',
    title: 'Service temporarily unavailable',
    detail: 'Try again shortly.',
    retryAfterSeconds: 2,
  }),
];

const INTERNAL: Answer<unknown> = {
  status: 500,
  slug: 'internal',
  title: 'Internal error',
  detail: 'The request failed unexpectedly.',
};

/**
 * The one mapping from the core's typed errors to HTTP problems, by the table above. Anything unknown
 * is a 500 that says nothing about its cause (the cause goes to the log, not the response).
 */
export function problemFor(error: unknown, linkId?: string): ProblemResponse {
  const matched = RULES.find((candidate) => candidate.matches(error));
  return matched ? matched.answer(error, linkId) : respond(INTERNAL, error, linkId);
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

/** A secret that could not be read, or an SDK error that says "later": throttling, a busy or unreachable service. */
function isDependencyTransient(error: unknown): error is Error {
  if (error instanceof SecretUnavailableError) return true;
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
