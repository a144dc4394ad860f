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
    new LinkNotFoundError(LINK_ID, { statuscode: 'RPI' }),
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
