import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { SAMPLE_LINK_ID, type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import { formatIst, parseIst } from '#shared/instantpay/ist-time.ts';
import {
  CANCEL_SAMPLE_BODY,
  CREATE_DATA_KEYS,
  CREATE_PAYMENT_MODES,
  CREATE_PURPOSES,
  createRequestFromTable,
  ENVELOPE_KEYS,
  LIST_META_KEYS,
  LIST_RECORD_KEYS,
  LIST_SAMPLE_BODY,
  NOTIFY_SAMPLE_BODY,
  PUBLISHED_STATUS_CODES,
} from '#test/support/instantpay-published.ts';
import { rawRequest, SAMPLE_HEADERS, track, upstreamPost } from './sandbox-client.ts';

const START = parseIst('2024-05-06 09:00:00') as number;

/** The sample response's `data` as the page prints it, reformatted to one line (U+00A0 as the page has it). */
const SAMPLE_DATA_JSON =
  '{"status":"CLAIMED","amount":120.11,"linkActivity":[' +
  '{"status":"Payout link created","activityAt":"2023-12-12 14:51:25"},' +
  '{"status":"Payout link notification sent to 8430454547 and [email\u00a0protected]","activityAt":"2023-12-12 14:51:26"},' +
  '{"status":"Beneficiary verification successful","activityAt":"2023-12-12 14:51:31","orderId":"1231212092131KTMDF",' +
  '"accountType":"ACCOUNT","accountNumber":"7770007428585742","accountIfsc":"YESB0CMSNOC"},' +
  '{"status":"Link Claimed successfully","activityAt":"2023-12-12 14:51:31","orderId":"1231212092131FDBUT",' +
  '"accountType":"ACCOUNT","accountNumber":"7770007428585742","accountIfsc":"YESB0CMSNOC"}]}';

describe('sandbox upstream endpoints', () => {
  let sandbox: Sandbox;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(START);
    sandbox = await startSandbox({ clock });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    sandbox.reset();
  });

  it('answers the page sample curl with exactly the sample data in a sandbox envelope', async () => {
    const response = await rawRequest(`${sandbox.url}/payments/payout/link/track/${SAMPLE_LINK_ID}`, {
      headers: { ...SAMPLE_HEADERS, 'Content-Type': 'application/json' },
      body: '\n',
    });

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    const body = JSON.parse(response.text) as Record<string, unknown>;
    expect(JSON.stringify(body.data)).toBe(SAMPLE_DATA_JSON);
    expect(Object.keys(body)).toEqual([...ENVELOPE_KEYS]);
    expect(body).toMatchObject({
      statuscode: 'TXN',
      actcode: null,
      status: 'Transaction Successful',
      timestamp: formatIst(START),
      orderid: null,
      environment: 'SANDBOX',
      internalCode: null,
    });
    expect(body.ipay_uuid).toMatch(
      /^h000[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[A-Za-z0-9]{12}$/,
    );
  });

  it('gives a fresh ipay_uuid to every answer', async () => {
    const first = (await (await track(sandbox.url, SAMPLE_LINK_ID)).json()) as Record<string, unknown>;
    const second = (await (await track(sandbox.url, SAMPLE_LINK_ID)).json()) as Record<string, unknown>;
    expect(first.ipay_uuid).not.toBe(second.ipay_uuid);
  });

  it.each([
    ['a missing auth code', { 'X-Ipay-Auth-Code': '' }],
    ['an auth code other than 1', { 'X-Ipay-Auth-Code': '2' }],
    ['a wrong client id', { 'X-Ipay-Client-Id': 'someone-else' }],
    ['a wrong client secret', { 'X-Ipay-Client-Secret': 'nope' }],
    ['an empty endpoint IP', { 'X-Ipay-Endpoint-Ip': '' }],
  ])('answers HTTP 200 with an IAC envelope for %s', async (_, override) => {
    const headers = Object.fromEntries(
      Object.entries({ ...SAMPLE_HEADERS, ...override }).filter(([, value]) => value !== ''),
    );
    const response = await fetch(`${sandbox.url}/payments/payout/link/track/${SAMPLE_LINK_ID}`, { headers });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      statuscode: 'IAC',
      status: 'Invalid Dealer Credentials',
      data: null,
      environment: 'SANDBOX',
    });
  });

  it('checks the endpoint IP when one is configured', async () => {
    const strict = await startSandbox({
      credentials: { clientId: 'id', clientSecret: 'secret', endpointIp: '10.0.0.1' },
    });
    try {
      const headers = { 'X-Ipay-Auth-Code': '1', 'X-Ipay-Client-Id': 'id', 'X-Ipay-Client-Secret': 'secret' };
      const url = `${strict.url}/payments/payout/link/track/${SAMPLE_LINK_ID}`;
      const wrong = await fetch(url, { headers: { ...headers, 'X-Ipay-Endpoint-Ip': '10.0.0.2' } });
      const right = await fetch(url, { headers: { ...headers, 'X-Ipay-Endpoint-Ip': '10.0.0.1' } });
      const sample = await fetch(url, { headers: SAMPLE_HEADERS });
      expect(((await wrong.json()) as { statuscode: string }).statuscode).toBe('IAC');
      expect(((await right.json()) as { statuscode: string }).statuscode).toBe('TXN');
      expect(((await sample.json()) as { statuscode: string }).statuscode).toBe('IAC');
    } finally {
      await strict.close();
    }
  });

  it('answers ITI, with its published text, for an unknown link', async () => {
    const response = await track(sandbox.url, 'ffffffffffffffffffffffff');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      statuscode: 'ITI',
      status: 'Invalid Transaction ID',
      data: null,
    });
  });

  it('answers 404 with an OUE envelope for any other path, and for List with another method than GET', async () => {
    for (const [method, path] of [
      ['GET', '/payments/payout/link/explode'],
      ['POST', '/payments/payout/link/list'],
    ]) {
      const response = await fetch(`${sandbox.url}${path}`, { method, headers: SAMPLE_HEADERS });
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toMatchObject({
        statuscode: 'OUE',
        status: 'Unknown Method',
        data: null,
      });
    }
  });

  it('answers every statuscode with the text the published table gives it', async () => {
    for (const row of PUBLISHED_STATUS_CODES) {
      const faultId = sandbox.addFault({ kind: 'statuscode', value: row.code, count: 1 });
      const answer = (await (await track(sandbox.url, SAMPLE_LINK_ID)).json()) as Record<string, unknown>;
      expect(answer, faultId).toMatchObject({ statuscode: row.code, status: row.text });
    }
  });

  describe('Create, from a request built from the documented request table', () => {
    const activatedAt = formatIst(START);
    const expiredAt = formatIst(START + 3_600_000);

    it('accepts it and answers the documented shape: a 24-hex linkId, the url, ISSUED, orderid = data.orderId', async () => {
      const response = await upstreamPost(
        sandbox.url,
        '/payments/payout/link/create',
        createRequestFromTable(activatedAt, expiredAt),
      );
      expect(response.status).toBe(200);
      expect(Object.keys(response.json)).toEqual([...ENVELOPE_KEYS]);
      expect(response.json).toMatchObject({
        statuscode: 'TXN',
        actcode: null,
        status: 'Link Created Successfully',
        environment: 'SANDBOX',
        internalCode: null,
      });
      const data = response.json.data as Record<string, unknown>;
      expect(Object.keys(data)).toEqual([...CREATE_DATA_KEYS]);
      expect(data).toEqual({
        linkId: expect.stringMatching(/^[0-9a-f]{24}$/),
        url: `${sandbox.url}/payout-link/${data.linkId}`,
        status: 'ISSUED',
        contactDetails: { name: 'Ravi Kumar', mobile: '9811122233', email: 'ravi@example.com' },
        amount: 120.11,
        purpose: 'refund',
        description: 'Refund for order 42',
        referenceNo: 'INV-42',
        verifyBene: true,
        paymentModes: ['ACCOUNT', 'VPA'],
        orderId: expect.stringMatching(/^1\d{12}[A-Z]{5}$/),
        activatedAt,
        expiredAt,
      });
      expect(response.json.orderid).toBe(data.orderId);
    });

    it('creates an ISSUED link that moves with the clock to PROCESSING and CLAIMED', async () => {
      const created = await upstreamPost(
        sandbox.url,
        '/payments/payout/link/create',
        createRequestFromTable(activatedAt, expiredAt),
      );
      const linkId = (created.json.data as { linkId: string }).linkId;
      const issued = (await (await track(sandbox.url, linkId)).json()) as { data: Record<string, unknown> };
      expect(issued.data).toEqual({
        status: 'ISSUED',
        amount: 120.11,
        linkActivity: [
          { status: 'Payout link created', activityAt: formatIst(START) },
          {
            status: 'Payout link notification sent to 9811122233 and ravi@example.com',
            activityAt: formatIst(START),
          },
        ],
      });
      clock.advance(60_000);
      const processing = (await (await track(sandbox.url, linkId)).json()) as { data: { status: string } };
      expect(processing.data.status).toBe('PROCESSING');
      clock.advance(30_000);
      const claimed = (await (await track(sandbox.url, linkId)).json()) as {
        data: { status: string; linkActivity: unknown[] };
      };
      expect(claimed.data.status).toBe('CLAIMED');
      expect(claimed.data.linkActivity).toHaveLength(4);
    });

    it.each(CREATE_PURPOSES)(
      'accepts the documented purpose %s, in any case, and echoes it in lower case',
      async (purpose) => {
        for (const spelling of [purpose, purpose.toUpperCase()]) {
          const response = await upstreamPost(sandbox.url, '/payments/payout/link/create', {
            ...createRequestFromTable(activatedAt, expiredAt),
            purpose: spelling,
          });
          expect(response.json).toMatchObject({
            statuscode: 'TXN',
            data: { purpose: purpose.toLowerCase() },
          });
        }
      },
    );

    it("accepts every documented payment mode together, verifyBene as the older crawl's string, and no contact without verification", async () => {
      const { contactDetails: _, ...withoutContact } = createRequestFromTable(activatedAt, expiredAt);
      const response = await upstreamPost(sandbox.url, '/payments/payout/link/create', {
        ...withoutContact,
        verifyBene: 'false',
        referenceNo: '',
        paymentModes: [...CREATE_PAYMENT_MODES],
      });
      expect(response.json).toMatchObject({
        statuscode: 'TXN',
        data: {
          verifyBene: false,
          referenceNo: 'NA',
          paymentModes: [...CREATE_PAYMENT_MODES],
          contactDetails: { name: null, mobile: null, email: null },
        },
      });
    });

    const table = () => createRequestFromTable(activatedAt, expiredAt);
    const without = (field: string) => {
      const body = table();
      delete body[field];
      return body;
    };
    it.each<[string, () => unknown]>([
      ...['verifyBene', 'amount', 'purpose', 'description', 'activatedAt', 'expiredAt', 'paymentModes'].map(
        (field): [string, () => unknown] => [`no ${field} (mandatory)`, () => without(field)],
      ),
      ['a purpose outside the six', () => ({ ...table(), purpose: 'Commission' })],
      ['an amount that is a number', () => ({ ...table(), amount: 10 })],
      ['a negative amount', () => ({ ...table(), amount: '-5' })],
      ['a zero amount', () => ({ ...table(), amount: '0' })],
      ['a non-numeric amount', () => ({ ...table(), amount: 'ten' })],
      ['an expiry in the past', () => ({ ...table(), expiredAt: '2000-01-01 00:00:00' })],
      ['an expiry before the activation', () => ({ ...table(), activatedAt: formatIst(START + 7_200_000) })],
      ['an expiry that is not an InstantPay time', () => ({ ...table(), expiredAt: 'tomorrow' })],
      ['an unknown payment mode', () => ({ ...table(), paymentModes: ['CASH'] })],
      ['no payment mode', () => ({ ...table(), paymentModes: [] })],
      [
        'verifyBene true without the contact e-mail',
        () => ({ ...table(), contactDetails: { name: 'Ravi Kumar', mobile: '9811122233' } }),
      ],
    ])('answers RPI with its published text to a create with %s', async (_, body) => {
      const response = await upstreamPost(sandbox.url, '/payments/payout/link/create', body());
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({
        statuscode: 'RPI',
        status: 'Request Parameters are Invalid or Incomplete',
        data: null,
        orderid: null,
      });
    });

    it('answers RPI to a create whose body is not JSON', async () => {
      const response = await fetch(`${sandbox.url}/payments/payout/link/create`, {
        method: 'POST',
        headers: SAMPLE_HEADERS,
        body: 'amount=10',
      });
      expect(await response.json()).toMatchObject({
        statuscode: 'RPI',
        status: 'Request Parameters are Invalid or Incomplete',
      });
    });
  });

  describe('Cancel', () => {
    it('answers the documented sample request with the documented sample answer', async () => {
      sandbox.createLink({
        linkId: CANCEL_SAMPLE_BODY.linkId,
        amount: 5,
        timeline: [{ afterMs: 0, status: 'ISSUED' }],
      });
      const cancelled = await upstreamPost(sandbox.url, '/payments/payout/link/cancel', CANCEL_SAMPLE_BODY);
      expect(Object.keys(cancelled.json)).toEqual([...ENVELOPE_KEYS]);
      expect(cancelled.json).toMatchObject({
        statuscode: 'TXN',
        actcode: null,
        status: 'Link Cancelled Successfully',
        data: null,
        orderid: null,
        internalCode: null,
      });
      const view = (await (await track(sandbox.url, CANCEL_SAMPLE_BODY.linkId)).json()) as {
        data: { status: string };
      };
      expect(view.data.status).toBe('CANCELLED');
    });

    it('refuses to cancel a link again (RPI), and answers ITI for an unknown one', async () => {
      const linkId = sandbox.createLink({ amount: 5, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
      await upstreamPost(sandbox.url, '/payments/payout/link/cancel', { linkId });
      const again = await upstreamPost(sandbox.url, '/payments/payout/link/cancel', { linkId });
      expect(again.json).toMatchObject({
        statuscode: 'RPI',
        status: 'Request Parameters are Invalid or Incomplete',
      });
      const unknown = await upstreamPost(sandbox.url, '/payments/payout/link/cancel', { linkId: 'nope' });
      expect(unknown.json).toMatchObject({ statuscode: 'ITI', status: 'Invalid Transaction ID' });
      const missing = await upstreamPost(sandbox.url, '/payments/payout/link/cancel', {});
      expect(missing.json).toMatchObject({ statuscode: 'RPI' });
    });
  });

  describe('Notify', () => {
    it('answers the documented sample request with the documented answer text, contacts masked', async () => {
      sandbox.createLink({
        linkId: NOTIFY_SAMPLE_BODY.linkId,
        amount: 5,
        timeline: [{ afterMs: 0, status: 'ISSUED' }],
      });
      clock.advance(5_000);
      const notified = await upstreamPost(sandbox.url, '/payments/payout/link/notify', NOTIFY_SAMPLE_BODY);
      expect(Object.keys(notified.json)).toEqual([...ENVELOPE_KEYS]);
      // The sample: "Notification Link Sent To *******742 and ******@instantpay.in".
      expect(notified.json).toMatchObject({
        statuscode: 'TXN',
        actcode: null,
        status: 'Notification Link Sent To *******210 and ***********@example.com',
        data: null,
        orderid: null,
      });
      expect(notified.json.status).toMatch(/^Notification Link Sent To \*+\d{3} and \*+@[a-z.]+$/);
      const view = (await (await track(sandbox.url, NOTIFY_SAMPLE_BODY.linkId)).json()) as {
        data: { linkActivity: unknown[] };
      };
      expect(view.data.linkActivity.at(-1)).toEqual({
        status: 'Payout link notification sent to 9876543210 and beneficiary@example.com',
        activityAt: formatIst(clock.now()),
      });
    });

    it('answers ITI for an unknown link and RPI for a final one', async () => {
      const unknown = await upstreamPost(sandbox.url, '/payments/payout/link/notify', NOTIFY_SAMPLE_BODY);
      expect(unknown.json).toMatchObject({ statuscode: 'ITI', status: 'Invalid Transaction ID' });
      const linkId = sandbox.createLink({ amount: 5, timeline: [{ afterMs: 0, status: 'CLAIMED' }] });
      const final = await upstreamPost(sandbox.url, '/payments/payout/link/notify', { linkId });
      expect(final.json).toMatchObject({ statuscode: 'RPI' });
    });
  });

  describe('List', () => {
    const list = async (body: unknown) => {
      const response = await rawRequest(`${sandbox.url}/payments/payout/link/list`, {
        headers: { ...SAMPLE_HEADERS, 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      expect(response.status).toBe(200);
      return JSON.parse(response.text) as {
        statuscode: string;
        status: string;
        data: { meta: Record<string, number>; records: Array<Record<string, unknown>> } | null;
      };
    };

    it('answers the documented sample request (a GET with a JSON body) with the documented shape', async () => {
      const createdAt = clock.now();
      sandbox.createLink({
        linkId: LIST_SAMPLE_BODY.filters.linkId,
        amount: 120.11,
        referenceNo: 'INV-42',
        timeline: [{ afterMs: 0, status: 'ISSUED' }],
      });
      const answer = await list(LIST_SAMPLE_BODY);
      expect(Object.keys(answer)).toEqual([...ENVELOPE_KEYS]);
      expect(answer).toMatchObject({ statuscode: 'TXN', status: 'Transaction Successful', orderid: null });
      expect(Object.keys(answer.data ?? {})).toEqual(['meta', 'records']);
      expect(Object.keys(answer.data!.meta)).toEqual([...LIST_META_KEYS]);
      // The sample's contact filter is the page's placeholder text: no link matches it.
      expect(answer.data).toEqual({
        meta: {
          totalPages: 0,
          currentPage: 1,
          totalRecords: 0,
          recordsOnCurrentPage: 0,
          recordFrom: 0,
          recordTo: 0,
        },
        records: [],
      });

      const { contact: _, ...filters } = LIST_SAMPLE_BODY.filters;
      const found = await list({ ...LIST_SAMPLE_BODY, filters });
      expect(found.data?.meta).toEqual({
        totalPages: 1,
        currentPage: 1,
        totalRecords: 1,
        recordsOnCurrentPage: 1,
        recordFrom: 1,
        recordTo: 1,
      });
      const record = found.data!.records[0]!;
      expect(Object.keys(record)).toEqual([...LIST_RECORD_KEYS]);
      expect(record).toMatchObject({
        amount: 120.11,
        status: 'ISSUED',
        linkId: LIST_SAMPLE_BODY.filters.linkId,
        referenceNo: 'INV-42',
        url: `${sandbox.url}/payout-link/${LIST_SAMPLE_BODY.filters.linkId}`,
        qrUrl: `${sandbox.url}/payment/payout/link/qr/${LIST_SAMPLE_BODY.filters.linkId}`,
        expiredAt: formatIst(createdAt + 30 * 24 * 3_600_000),
      });
    });

    it('filters by any of the statuses in the array, pages newest first, and answers an empty page past the last', async () => {
      const issued = sandbox.createLink({ amount: 5, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
      clock.advance(1_000);
      const processing = sandbox.createLink({ amount: 6, timeline: [{ afterMs: 0, status: 'PROCESSING' }] });
      clock.advance(1_000);
      sandbox.createLink({ amount: 7, timeline: [{ afterMs: 0, status: 'CLAIMED' }] });

      const both = await list({
        filters: { status: ['ISSUED', 'PROCESSING'] },
        pagination: { pageNumber: '1', recordsPerPage: '1' },
      });
      expect(both.data?.meta).toMatchObject({ totalPages: 2, totalRecords: 2, recordsOnCurrentPage: 1 });
      expect(both.data?.records.map((r) => r.linkId)).toEqual([processing]);
      const second = await list({
        filters: { status: ['ISSUED', 'PROCESSING'] },
        pagination: { pageNumber: '2', recordsPerPage: '1' },
      });
      expect(second.data?.records.map((r) => r.linkId)).toEqual([issued]);
      const past = await list({
        filters: { status: ['ISSUED', 'PROCESSING'] },
        pagination: { pageNumber: '3', recordsPerPage: '1' },
      });
      expect(past).toMatchObject({ statuscode: 'TXN', data: { records: [] } });
      // No body at all: every link, the sample's page size.
      const all = await list(undefined);
      expect(all.data?.meta).toMatchObject({ totalRecords: 4, recordsOnCurrentPage: 4 });
    });

    it.each([
      ['a bare status string', { filters: { status: 'ISSUED' } }],
      ['a status outside the five', { filters: { status: ['ON_HOLD'] } }],
      ['numbers for the page', { pagination: { pageNumber: 1, recordsPerPage: 10 } }],
      ['page 0', { pagination: { pageNumber: '0' } }],
      ['more than 100 records per page', { pagination: { recordsPerPage: '101' } }],
      ['a body that is not JSON', 'status=ISSUED'],
    ])('answers RPI to %s', async (_, body) => {
      expect(await list(body)).toMatchObject({
        statuscode: 'RPI',
        status: 'Request Parameters are Invalid or Incomplete',
        data: null,
      });
    });
  });
});
