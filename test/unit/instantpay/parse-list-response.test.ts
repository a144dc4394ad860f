import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InstantPayError,
  UpstreamCredentialsError,
  UpstreamIntegrationError,
  UpstreamProtocolError,
  UpstreamRejectedError,
  UpstreamUnavailableError,
} from '#shared/instantpay/errors.ts';
import { listRequestBody, parseListResponse } from '#shared/instantpay/list-client.ts';
import { LIST_SAMPLE_BODY } from '#test/support/instantpay-published.ts';

const NOW = 1_700_000_000_000;

function envelope(statuscode: string, data: unknown = null) {
  return JSON.stringify({
    statuscode,
    actcode: null,
    status: 'Transaction Successful',
    data,
    timestamp: '2023-12-14 16:42:49',
    ipay_uuid: 'h0009-uuid',
    orderid: null,
    environment: 'PRODUCTION',
    internalCode: null,
  });
}

/** A record with the secondary copy's fields (PAYOUT-LINK-ENDPOINTS.md section 4.3). */
const record = (linkId: unknown, extra: Record<string, unknown> = {}) => ({
  amount: 120.11,
  purpose: 'refund',
  description: 'Refund',
  status: 'ISSUED',
  linkId,
  contactDetails: { name: 'Ravi', email: 'ravi@example.com', mobile: '98XXXXXX33' },
  referenceNo: 'INV-42',
  orderId: '1231214070644TLWAP',
  url: 'https://instant.pe/LS25FH',
  qrUrl: 'https://api.instantpay.in/payment/payout/link/qr/LS25FH',
  paymentModes: ['ACCOUNT', 'VPA', 'AMAZON', 'CREDITCARD'],
  verifyBene: true,
  activatedAt: '2023-12-14 12:00:00',
  expiredAt: '2023-12-15 12:00:00',
  ...extra,
});

const meta = {
  totalPages: 6,
  currentPage: 1,
  totalRecords: 12,
  recordsOnCurrentPage: 2,
  recordFrom: 1,
  recordTo: 2,
};

describe('listRequestBody', () => {
  it('writes the page sample form: filters.status an array, page number and size as strings', () => {
    expect(listRequestBody({ statuses: ['ISSUED'], pageNumber: 1, recordsPerPage: 10 })).toEqual({
      filters: { status: LIST_SAMPLE_BODY.filters.status },
      pagination: LIST_SAMPLE_BODY.pagination,
    });
  });

  it.each([
    ['no status', { statuses: [], pageNumber: 1, recordsPerPage: 10 }],
    ['page 0', { statuses: ['ISSUED'], pageNumber: 0, recordsPerPage: 10 }],
    ['a fractional page size', { statuses: ['ISSUED'], pageNumber: 1, recordsPerPage: 2.5 }],
  ])('refuses %s', (_, query) => {
    expect(() => listRequestBody(query)).toThrow(RangeError);
  });
});

describe('parseListResponse', () => {
  it('reads the records of a TXN answer in their order, keeping every field (unknown ones too), and the meta', () => {
    const page = parseListResponse(
      200,
      null,
      envelope('TXN', {
        meta,
        records: [
          record('657aa9841b8d3897ff0a84fb', { shortCode: 'LS25FH' }),
          record('657a99b961f05879ae06cb56'),
        ],
      }),
      NOW,
    );
    expect(page.received).toBe(2);
    expect(page.unusable).toBe(0);
    expect(page.meta).toEqual(meta);
    expect(page.links.map((link) => link.linkId)).toEqual([
      '657aa9841b8d3897ff0a84fb',
      '657a99b961f05879ae06cb56',
    ]);
    expect(page.links[0]).toEqual(record('657aa9841b8d3897ff0a84fb', { shortCode: 'LS25FH' }));
  });

  it('counts records without a usable link id, and never passes one on', () => {
    const page = parseListResponse(
      200,
      null,
      envelope('TXN', { meta, records: [record('../etc/passwd'), record(42), 'text', record('ok-1')] }),
      NOW,
    );
    expect(page).toMatchObject({ received: 4, unusable: 3 });
    expect(page.links.map((link) => link.linkId)).toEqual(['ok-1']);
  });

  it('does without a meta, or with one it cannot read: the page length is what counts', () => {
    const none = parseListResponse(200, null, envelope('TXN', { records: [record('a')] }), NOW);
    const odd = parseListResponse(200, null, envelope('TXN', { meta: 'many', records: [record('a')] }), NOW);
    expect(none.meta).toBeNull();
    expect(odd.meta).toBeNull();
    expect(odd.received).toBe(1);
  });

  it('keeps a record whose other fields are not the expected type, reading what it can', () => {
    const page = parseListResponse(
      200,
      null,
      envelope('TXN', { records: [record('a', { status: 7, referenceNo: null, expiredAt: ['x'] })] }),
      NOW,
    );
    expect(page.links[0]).toMatchObject({ linkId: 'a', status: undefined, referenceNo: null });
    expect(page.links[0]?.expiredAt).toBeUndefined();
  });

  it('reads TXN without data as an empty page (not documented: data is "if present")', () => {
    expect(parseListResponse(200, null, envelope('TXN', null), NOW)).toEqual({
      links: [],
      received: 0,
      unusable: 0,
      meta: null,
    });
  });

  it.each([
    ['TUP', UpstreamUnavailableError],
    ['SPD', UpstreamUnavailableError],
    ['IAC', UpstreamCredentialsError],
    ['IUA', UpstreamCredentialsError],
    ['RPI', UpstreamIntegrationError],
    ['OUE', UpstreamIntegrationError],
    ['ITI', UpstreamRejectedError],
    ['DTX', UpstreamRejectedError],
    ['ZZZ', UpstreamRejectedError],
  ])('answers %s with its typed error', (code, type) => {
    expect(() => parseListResponse(200, null, envelope(code), NOW)).toThrow(type);
  });

  it('treats a 5xx or 429 as transient whatever the body, and TXN data without records as a protocol error', () => {
    expect(() => parseListResponse(503, '30', envelope('TXN', { records: [] }), NOW)).toThrow(
      UpstreamUnavailableError,
    );
    expect(() => parseListResponse(200, null, envelope('TXN', { meta }), NOW)).toThrow(UpstreamProtocolError);
    expect(() => parseListResponse(200, null, '<html>gateway</html>', NOW)).toThrow(UpstreamProtocolError);
  });

  it('never throws anything but its typed errors, whatever the body', () => {
    const records = fc.array(
      fc.oneof(
        fc.jsonValue(),
        fc.record({
          linkId: fc.oneof(fc.string(), fc.integer()),
          status: fc.oneof(fc.string(), fc.integer()),
          referenceNo: fc.oneof(fc.string(), fc.constant(null), fc.jsonValue()),
          expiredAt: fc.jsonValue(),
        }),
      ),
    );
    const envelopes = fc
      .record({
        statuscode: fc.oneof(fc.constantFrom('TXN', 'TUP', 'IAC', 'RPI', 'ITI'), fc.string()),
        data: fc.oneof(fc.jsonValue(), fc.record({ meta: fc.jsonValue(), records })),
      })
      .map((value) => JSON.stringify(value));
    fc.assert(
      fc.property(
        fc.integer({ min: 100, max: 599 }),
        fc.oneof(
          fc.string(),
          fc.jsonValue().map((value) => JSON.stringify(value)),
          envelopes,
        ),
        (status, body) => {
          try {
            const page = parseListResponse(status, null, body, NOW);
            expect(page.links.length + page.unusable).toBe(page.received);
          } catch (error) {
            expect(error).toBeInstanceOf(InstantPayError);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
