import { describe, expect, it } from 'vitest';
import {
  MalformedSecretError,
  SecretNotConfiguredError,
  SecretUnavailableError,
} from '#shared/credentials/secret-errors.ts';
import { problemFor } from '#shared/http/problem.ts';
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

const LINK_ID = '65704add83911e52b70ebcbc';
/** Something no response may ever carry: a raw upstream body with personal data. */
const SECRET_BODY = '{"statuscode":"ERR","status":"sent to 8430454547"}';

function sdkError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name}: ${SECRET_BODY}`), { name, ...extra });
}

const linked: Array<[string, unknown, number]> = [
  ['LinkNotFoundError', new LinkNotFoundError(LINK_ID, { statuscode: 'ITI', httpStatus: 200 }), 404],
  ['LinkNotTrackedError', new LinkNotTrackedError(LINK_ID), 404],
  [
    'UpstreamCredentialsError',
    new UpstreamCredentialsError(`rejected: ${SECRET_BODY}`, { statuscode: 'IAC' }),
    502,
  ],
  [
    'UpstreamIntegrationError',
    new UpstreamIntegrationError(`refused: ${SECRET_BODY}`, { statuscode: 'RPI' }),
    502,
  ],
  ['SecretNotConfiguredError', new SecretNotConfiguredError('dev/instantpay', 'set clientId'), 502],
  ['MalformedSecretError', new MalformedSecretError('dev/instantpay', ['clientId: required']), 502],
  ['UpstreamRejectedError', new UpstreamRejectedError(`unknown: ${SECRET_BODY}`, { statuscode: 'XYZ' }), 502],
  ['UpstreamProtocolError', new UpstreamProtocolError('not JSON', SECRET_BODY, { httpStatus: 200 }), 502],
  ['UpstreamUnavailableError', new UpstreamUnavailableError('timed out', 'timeout', 5), 503],
  ['ConcurrentUpdateError', new ConcurrentUpdateError(LINK_ID), 503],
  ['ThrottlingException', sdkError('ThrottlingException', { $fault: 'client' }), 503],
  ['a plain Error', new Error(SECRET_BODY), 500],
];

describe('problemFor', () => {
  it('maps an invalid link id to 400', () => {
    const { problem } = problemFor(new InvalidLinkIdError('bad id!'));

    expect(problem.status).toBe(400);
    expect(problem.type).toMatch(/invalid-link-id$/);
    expect(problem.detail).toContain('1 to 64 characters');
  });

  it('maps an invalid request to 400 naming what is wrong', () => {
    const error = new InvalidRequestError('The body is not valid.', ['expiresAt: must be an ISO date']);

    const { problem } = problemFor(error);

    expect(problem.status).toBe(400);
    expect(problem.detail).toBe('The body is not valid.');
    expect(problem.errors).toEqual(['expiresAt: must be an ISO date']);
  });

  it.each(linked)('maps %s to %i', (_name, error, status) => {
    const { problem } = problemFor(error, LINK_ID);

    expect(problem.status).toBe(status);
    expect(problem.linkId).toBe(LINK_ID);
    expect(problem.type).toMatch(/^urn:payout-link-tracker:problem:/);
    expect(problem.title).not.toBe('');
    expect(problem.detail).not.toBe('');
  });

  it.each(linked)('leaves linkId out for %s when none is given', (_name, error) => {
    expect(problemFor(error).problem).not.toHaveProperty('linkId');
  });

  it('tells apart the two 404s', () => {
    const notFound = problemFor(new LinkNotFoundError(LINK_ID), LINK_ID).problem;
    const notTracked = problemFor(new LinkNotTrackedError(LINK_ID), LINK_ID).problem;

    expect(notFound.type).not.toBe(notTracked.type);
  });

  it('answers an integration fault (RPI, IRT, VCI, OUE) as the tracker\'s or the operator\'s problem, never "not found"', () => {
    for (const statuscode of ['RPI', 'IRT', 'VCI', 'OUE']) {
      const { problem } = problemFor(new UpstreamIntegrationError('refused', { statuscode }), LINK_ID);
      expect(problem).toMatchObject({ status: 502, title: "InstantPay refused the tracker's request" });
      expect(problem.type).toMatch(/upstream-integration-fault$/);
      expect(problem.detail).toContain(statuscode);
      expect(problem.detail).toMatch(/not the link/);
    }
  });

  it('gives rejected credentials a title an operator understands', () => {
    const { problem } = problemFor(new UpstreamCredentialsError('IAC', { statuscode: 'IAC' }), LINK_ID);

    expect(problem.title).toMatch(/credentials/i);
  });

  it('passes the upstream Retry-After through on 503', () => {
    const error = new UpstreamUnavailableError('HTTP 503', 'http-status', 42, { httpStatus: 503 });

    const response = problemFor(error, LINK_ID);

    expect(response.problem.status).toBe(503);
    expect(response.retryAfterSeconds).toBe(42);
    expect(response.problem.detail).toContain('503');
  });

  it.each([
    new UpstreamUnavailableError('down', 'statuscode', 60, { statuscode: 'TUP' }),
    new UpstreamUnavailableError('timed out', 'timeout', 5),
    new UpstreamUnavailableError('unreachable', 'network', 7),
  ])('answers a Retry-After for every unavailable upstream ($reason)', (error) => {
    const response = problemFor(error);

    expect(response.problem.status).toBe(503);
    expect(response.retryAfterSeconds).toBe(error.retryAfterSeconds);
    expect(response.problem.detail).not.toContain('undefined');
  });

  it('answers a Retry-After on a busy link and a throttled dependency', () => {
    expect(problemFor(new ConcurrentUpdateError(LINK_ID)).retryAfterSeconds).toBeGreaterThan(0);
    expect(problemFor(sdkError('ThrottlingException')).retryAfterSeconds).toBeGreaterThan(0);
  });

  it.each([
    sdkError('ProvisionedThroughputExceededException'),
    sdkError('SomethingBroke', { $fault: 'server' }),
    sdkError('Error', { code: 'ECONNREFUSED' }),
    new SecretUnavailableError('dev/instantpay'),
  ])('maps a transient dependency failure to 503 (%s)', (error) => {
    expect(problemFor(error).problem.status).toBe(503);
  });

  it.each([
    ['an Error', new Error(SECRET_BODY)],
    ['a TypeError', new TypeError(`Cannot read properties of undefined (${SECRET_BODY})`)],
    ['a thrown string', SECRET_BODY],
    ['a thrown object', { message: SECRET_BODY, stack: 'at secret.ts:1' }],
    ['undefined', undefined],
  ])('maps %s to a 500 that says nothing of the cause', (_name, error) => {
    const response = problemFor(error, LINK_ID);

    const text = JSON.stringify(response);
    expect(response.problem.status).toBe(500);
    expect(response.retryAfterSeconds).toBeUndefined();
    expect(text).not.toContain('8430454547');
    expect(text).not.toContain('statuscode');
    expect(text).not.toContain('Cannot read');
    expect(text).not.toMatch(/\bat .+:\d+/);
  });

  it('never puts a raw upstream body or a stack trace in any problem', () => {
    for (const [, error] of linked) {
      const text = JSON.stringify(problemFor(error, LINK_ID));

      expect(text).not.toContain('8430454547');
      expect(text).not.toContain(SECRET_BODY);
      expect(text).not.toMatch(/\bat .+:\d+/);
    }
  });
});

const TYPE = 'urn:payout-link-tracker:problem:';

/** Each typed error, the link id the request named (if any), and its whole answer as the API sends it. */
const answers: Array<[string, unknown, string | undefined, unknown]> = [
  [
    'an invalid link id',
    new InvalidLinkIdError('bad id!'),
    undefined,
    {
      problem: {
        type: `${TYPE}invalid-link-id`,
        title: 'Invalid link id',
        status: 400,
        detail: 'The link id must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-".',
      },
    },
  ],
  [
    'an invalid request, even about a link',
    new InvalidRequestError('The body is not valid.', ['linkId: invalid']),
    LINK_ID,
    {
      problem: {
        type: `${TYPE}invalid-request`,
        title: 'Invalid request',
        status: 400,
        detail: 'The body is not valid.',
        errors: ['linkId: invalid'],
      },
    },
  ],
  [
    'a link InstantPay does not know',
    new LinkNotFoundError(LINK_ID, { statuscode: 'ITI' }),
    LINK_ID,
    {
      problem: {
        type: `${TYPE}link-not-found`,
        title: 'Link not found',
        status: 404,
        detail: 'InstantPay does not know this link.',
        linkId: LINK_ID,
      },
    },
  ],
  [
    'a link never tracked',
    new LinkNotTrackedError(LINK_ID),
    LINK_ID,
    {
      problem: {
        type: `${TYPE}link-not-tracked`,
        title: 'Link not tracked',
        status: 404,
        detail: 'The tracker has never tracked this link.',
        linkId: LINK_ID,
      },
    },
  ],
  [
    'rejected credentials',
    new UpstreamCredentialsError('rejected', { statuscode: 'IAC' }),
    LINK_ID,
    {
      problem: {
        type: `${TYPE}upstream-credentials-rejected`,
        title: 'InstantPay rejected the tracker credentials',
        status: 502,
        detail: 'An operator must update the InstantPay secret; retrying will not help until then.',
        linkId: LINK_ID,
      },
    },
  ],
  ...[
    new SecretNotConfiguredError('dev/instantpay', 'set it'),
    new MalformedSecretError('dev/instantpay', ['clientId: required']),
  ].map((error): [string, unknown, string | undefined, unknown] => [
    `a secret not configured (${error.name})`,
    error,
    undefined,
    {
      problem: {
        type: `${TYPE}upstream-credentials-not-configured`,
        title: 'InstantPay credentials are not configured',
        status: 502,
        detail: 'An operator must set the InstantPay secret of this stage.',
      },
    },
  ]),
  [
    'an unknown statuscode',
    new UpstreamRejectedError('unknown', { statuscode: 'XYZ' }),
    LINK_ID,
    {
      problem: {
        type: `${TYPE}upstream-bad-answer`,
        title: 'InstantPay gave an answer the tracker cannot use',
        status: 502,
        detail: 'InstantPay answered statuscode XYZ.',
        linkId: LINK_ID,
      },
    },
  ],
  [
    'an unexpected body',
    new UpstreamProtocolError('not JSON', 'excerpt', { httpStatus: 200 }),
    LINK_ID,
    {
      problem: {
        type: `${TYPE}upstream-bad-answer`,
        title: 'InstantPay gave an answer the tracker cannot use',
        status: 502,
        detail: 'InstantPay answered with an unexpected body.',
        linkId: LINK_ID,
      },
    },
  ],
  ...(
    [
      [new UpstreamUnavailableError('t', 'timeout', 5), 'InstantPay did not answer in time.'],
      [new UpstreamUnavailableError('n', 'network', 5), 'InstantPay could not be reached.'],
      [
        new UpstreamUnavailableError('h', 'http-status', 42, { httpStatus: 503 }),
        'InstantPay answered HTTP 503.',
      ],
      [
        new UpstreamUnavailableError('s', 'statuscode', 60, { statuscode: 'TUP' }),
        'InstantPay answered TUP (pending or down).',
      ],
    ] as const
  ).map(([error, said]): [string, unknown, string | undefined, unknown] => [
    `an unavailable upstream (${error.reason})`,
    error,
    LINK_ID,
    {
      problem: {
        type: `${TYPE}upstream-unavailable`,
        title: 'InstantPay is unavailable',
        status: 503,
        detail: `${said} The stored status is unchanged; try again later.`,
        linkId: LINK_ID,
      },
      retryAfterSeconds: error.retryAfterSeconds,
    },
  ]),
  [
    'a busy link',
    new ConcurrentUpdateError(LINK_ID),
    LINK_ID,
    {
      problem: {
        type: `${TYPE}busy`,
        title: 'The link is busy',
        status: 503,
        detail: 'Other checks of this link were being recorded.',
        linkId: LINK_ID,
      },
      retryAfterSeconds: 1,
    },
  ],
  ...[
    new SecretUnavailableError('dev/instantpay'),
    Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
    Object.assign(new Error('broke'), { name: 'Whatever', $fault: 'server' }),
    Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
  ].map((error): [string, unknown, string | undefined, unknown] => [
    `a dependency failing for a while (${error.name})`,
    error,
    LINK_ID,
    {
      problem: {
        type: `${TYPE}dependency-unavailable`,
        title: 'Service temporarily unavailable',
        status: 503,
        detail: 'Try again shortly.',
        linkId: LINK_ID,
      },
      retryAfterSeconds: 2,
    },
  ]),
  [
    'anything else',
    new TypeError('x is undefined'),
    LINK_ID,
    {
      problem: {
        type: `${TYPE}internal`,
        title: 'Internal error',
        status: 500,
        detail: 'The request failed unexpectedly.',
        linkId: LINK_ID,
      },
    },
  ],
];

describe('problemFor, answer by answer', () => {
  it.each(answers)(
    'answers %s with its problem, field by field and in order',
    (_name, error, linkId, expected) => {
      expect(JSON.stringify(problemFor(error, linkId))).toBe(JSON.stringify(expected));
    },
  );
});
