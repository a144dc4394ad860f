import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { excerpt, parseRetryAfter, parseTrackResponse } from '#shared/instantpay/client.ts';
import {
  InstantPayError,
  LinkNotFoundError,
  UpstreamCredentialsError,
  UpstreamIntegrationError,
  UpstreamProtocolError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from '#shared/instantpay/errors.ts';
import { classifyStatusCode } from '#shared/instantpay/status-codes.ts';
import { PUBLISHED_STATUS_CODES } from '#test/support/instantpay-published.ts';

const times = { startedAt: 1_000, observedAt: 1_050 };
const linkId = '65704add83911e52b70ebcbc';

function envelope(statuscode: string, data: unknown = null, status = 'message') {
  return JSON.stringify({
    statuscode,
    actcode: null,
    status,
    data,
    timestamp: '2023-12-14 16:42:49',
    ipay_uuid: 'h0009-uuid',
    orderid: null,
    environment: 'PRODUCTION',
    internalCode: null,
  });
}

const claimed = {
  status: 'CLAIMED',
  amount: 120.11,
  linkActivity: [{ status: 'Payout link created', activityAt: '2023-12-12 14:51:25' }],
};

function parse(httpStatus: number, body: string, retryAfter: string | null = null) {
  return () => parseTrackResponse(linkId, httpStatus, retryAfter, body, times);
}

describe('parseTrackResponse', () => {
  it('turns a TXN answer into an observation with the envelope fields', () => {
    const observation = parseTrackResponse(linkId, 200, null, envelope('TXN', claimed), times);
    expect(observation).toEqual({
      linkId,
      status: 'CLAIMED',
      amount: 120.11,
      activity: claimed.linkActivity,
      statuscode: 'TXN',
      ipayUuid: 'h0009-uuid',
      timestamp: '2023-12-14 16:42:49',
      environment: 'PRODUCTION',
      startedAt: 1_000,
      observedAt: 1_050,
    });
  });

  it('keeps an unknown link status as it is', () => {
    const observation = parseTrackResponse(
      linkId,
      200,
      null,
      envelope('TXN', { ...claimed, status: 'ON_HOLD' }),
      times,
    );
    expect(observation.status).toBe('ON_HOLD');
  });

  it('tolerates unknown extra fields and keeps them on activity entries', () => {
    const data = { ...claimed, extra: 1, linkActivity: [{ ...claimed.linkActivity[0], channel: 'SMS' }] };
    const observation = parseTrackResponse(linkId, 200, null, envelope('TXN', data), times);
    expect(observation.activity[0]).toMatchObject({ channel: 'SMS' });
  });

  it('reads a numeric string amount and a missing activity list', () => {
    const observation = parseTrackResponse(
      linkId,
      200,
      null,
      envelope('TXN', { status: 'ISSUED', amount: '10.50' }),
      times,
    );
    expect(observation).toMatchObject({ amount: 10.5, activity: [] });
  });

  it.each([500, 502, 503, 504, 429])('treats HTTP %i as transient whatever the body says', (status) => {
    expect(parse(status, envelope('TXN', claimed))).toThrow(UpstreamUnavailableError);
  });

  it('honours a Retry-After in seconds on a 429', () => {
    try {
      parse(429, 'slow down', '7')();
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(UpstreamUnavailableError);
      expect((error as UpstreamUnavailableError).retryAfterSeconds).toBe(7);
      expect((error as UpstreamUnavailableError).reason).toBe('http-status');
    }
  });

  it('treats TUP and downtime codes as transient, with a longer wait for downtime', () => {
    const pending = catchError(parse(200, envelope('TUP')));
    const down = catchError(parse(200, envelope('SPD')));
    expect(pending).toBeInstanceOf(UpstreamUnavailableError);
    expect(down).toBeInstanceOf(UpstreamUnavailableError);
    expect((down as UpstreamUnavailableError).retryAfterSeconds).toBeGreaterThan(
      (pending as UpstreamUnavailableError).retryAfterSeconds,
    );
  });

  it('treats a credentials code as an operator problem', () => {
    expect(parse(200, envelope('IAC'))).toThrow(UpstreamCredentialsError);
  });

  it('treats a request code as a link InstantPay does not know', () => {
    const error = catchError(parse(200, envelope('ITI')));
    expect(error).toBeInstanceOf(LinkNotFoundError);
    expect(error).toMatchObject({ linkId, statuscode: 'ITI' });
  });

  it.each(['RPI', 'IRT', 'VCI', 'OUE'])(
    "treats the integration fault %s as the tracker's problem, never as an unknown link",
    (code) => {
      const error = catchError(parse(200, envelope(code)));
      expect(error).toBeInstanceOf(UpstreamIntegrationError);
      expect(error).not.toBeInstanceOf(LinkNotFoundError);
      expect(error).toMatchObject({ statuscode: code });
    },
  );

  it('treats IUA (Invalid User Account - Outlet) as a credentials or account problem', () => {
    expect(parse(200, envelope('IUA'))).toThrow(UpstreamCredentialsError);
  });

  it.each(PUBLISHED_STATUS_CODES.filter((row) => row.class !== 'success').map((row) => [row.code, row.text]))(
    'answers the published failure %s (%s) with the typed error of its class, never an observation',
    (code, text) => {
      const error = catchError(parse(200, envelope(code, null, text)));
      const expected = {
        pending: UpstreamUnavailableError,
        transient: UpstreamUnavailableError,
        credentials: UpstreamCredentialsError,
        integration: UpstreamIntegrationError,
        'not-found': LinkNotFoundError,
        failure: UpstreamRejectedError,
      }[classifyStatusCode(code) as 'pending'];
      expect(error).toBeInstanceOf(expected);
      expect(error).toMatchObject({ statuscode: code });
    },
  );

  it('treats an unknown statuscode as a rejection, not a crash', () => {
    expect(parse(200, envelope('ZZZ'))).toThrow(UpstreamRejectedError);
  });

  it('treats a body that is not JSON as a protocol error with a short masked excerpt', () => {
    const error = catchError(parse(200, `<html>Bad gateway for 7770007428585742 ${'x'.repeat(500)}</html>`));
    expect(error).toBeInstanceOf(UpstreamProtocolError);
    const { excerpt: text } = error as UpstreamProtocolError;
    expect(text.length).toBeLessThanOrEqual(83);
    expect(text).not.toContain('7770007428585742');
  });

  it('treats TXN with a data shape that does not match as a protocol error naming the field, not its value', () => {
    const error = catchError(
      parse(200, envelope('TXN', { status: 'CLAIMED', amount: 'lots', linkActivity: [] })),
    );
    expect(error).toBeInstanceOf(UpstreamProtocolError);
    expect((error as UpstreamProtocolError).excerpt).toContain('amount');
    expect((error as UpstreamProtocolError).excerpt).not.toContain('lots');
  });

  it('treats TXN on a non-2xx HTTP status as a protocol error', () => {
    expect(parse(404, envelope('TXN', claimed))).toThrow(UpstreamProtocolError);
  });

  it('never throws anything but its typed errors, whatever the body', () => {
    const json = fc.jsonValue().map((value) => JSON.stringify(value));
    const envelopes = fc
      .record({
        statuscode: fc.oneof(fc.constantFrom('TXN', 'TUP', 'IAC', 'ITI', 'SPD'), fc.string()),
        data: fc.oneof(
          fc.jsonValue(),
          fc.record({
            status: fc.string(),
            amount: fc.oneof(fc.double(), fc.string()),
            linkActivity: fc.jsonValue(),
          }),
        ),
        timestamp: fc.oneof(fc.string(), fc.constant(null)),
      })
      .map((value) => JSON.stringify(value));
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.oneof(fc.string(), json, envelopes),
        fc.option(fc.string()),
        (status, body, retryAfter) => {
          try {
            const observation = parseTrackResponse(linkId, status, retryAfter, body, times);
            expect(observation.statuscode).toBe('TXN');
          } catch (error) {
            expect(error).toBeInstanceOf(InstantPayError);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates and caps at one hour', () => {
    expect(parseRetryAfter('12', 0)).toBe(12);
    expect(parseRetryAfter(new Date(30_000).toUTCString(), 0)).toBe(30);
    expect(parseRetryAfter('999999', 0)).toBe(3600);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(null, 0)).toBeUndefined();
  });
});

describe('excerpt', () => {
  it('is one short line', () => {
    expect(excerpt('a\nb\r\n\tc')).toBe('a b c');
    expect(excerpt('y'.repeat(1_000))).toHaveLength(83);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
