import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { SAMPLE_LINK_ID, type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import { formatIst, parseIst } from '#shared/instantpay/ist-time.ts';
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
    expect(Object.keys(body)).toEqual([
      'statuscode',
      'actcode',
      'status',
      'data',
      'timestamp',
      'ipay_uuid',
      'orderid',
      'environment',
      'internalCode',
    ]);
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
      status: 'Invalid dealer credentials',
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

  it('answers ITI for an unknown link', async () => {
    const response = await track(sandbox.url, 'ffffffffffffffffffffffff');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ statuscode: 'ITI', status: 'Invalid link id', data: null });
  });

  it('answers 404 with an OUE envelope for any other path', async () => {
    const response = await fetch(`${sandbox.url}/payments/payout/link/explode`, { headers: SAMPLE_HEADERS });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toMatchObject({ statuscode: 'OUE', status: 'Unknown method', data: null });
  });

  it('creates an ISSUED link that moves with the clock to PROCESSING and CLAIMED', async () => {
    const created = await upstreamPost(sandbox.url, '/payments/payout/link/create', {
      amount: '99.50',
      purpose: 'REFUND',
      description: 'Order 42',
      referenceNo: 'REF-42',
      verifyBene: true,
      contactDetails: { name: 'Ravi', mobile: '9811122233', email: 'ravi@example.com' },
      paymentModes: ['ACCOUNT', 'VPA'],
      expiredAt: formatIst(START + 3_600_000),
      sendAlert: true,
    });
    expect(created.json).toMatchObject({ statuscode: 'TXN', status: 'Link Created Successfully' });
    const data = created.json.data as Record<string, unknown>;
    expect(data).toMatchObject({
      linkId: expect.stringMatching(/^[0-9a-f]{24}$/),
      url: expect.stringContaining(sandbox.url),
      status: 'ISSUED',
      amount: 99.5,
      orderId: expect.any(String),
      referenceNo: 'REF-42',
      activatedAt: formatIst(START),
      expiredAt: formatIst(START + 3_600_000),
    });
    const linkId = data.linkId as string;

    const issued = (await (await track(sandbox.url, linkId)).json()) as { data: Record<string, unknown> };
    expect(issued.data).toEqual({
      status: 'ISSUED',
      amount: 99.5,
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

  it.each([
    ['an amount that is a number', { amount: 10 }],
    ['a negative amount', { amount: '-5' }],
    ['a zero amount', { amount: '0' }],
    ['a non-numeric amount', { amount: 'ten' }],
    ['an expiry in the past', { amount: '10', expiredAt: '2000-01-01 00:00:00' }],
    ['an expiry that is not an InstantPay time', { amount: '10', expiredAt: 'tomorrow' }],
    ['an unknown payment mode', { amount: '10', paymentModes: ['CASH'] }],
  ])('answers RPI to a create with %s', async (_, body) => {
    const response = await upstreamPost(sandbox.url, '/payments/payout/link/create', body);
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ statuscode: 'RPI', data: null });
  });

  it('answers RPI to a create whose body is not JSON', async () => {
    const response = await fetch(`${sandbox.url}/payments/payout/link/create`, {
      method: 'POST',
      headers: SAMPLE_HEADERS,
      body: 'amount=10',
    });
    expect(await response.json()).toMatchObject({
      statuscode: 'RPI',
      status: 'Request parameters invalid or incomplete',
    });
  });

  it('cancels an ISSUED link, and refuses to cancel it again', async () => {
    const linkId = sandbox.createLink({ amount: 5, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    const cancelled = await upstreamPost(sandbox.url, '/payments/payout/link/cancel', { linkId });
    expect(cancelled.json).toMatchObject({
      statuscode: 'TXN',
      status: 'Link Cancelled Successfully',
      data: null,
    });
    const view = (await (await track(sandbox.url, linkId)).json()) as { data: { status: string } };
    expect(view.data.status).toBe('CANCELLED');

    const again = await upstreamPost(sandbox.url, '/payments/payout/link/cancel', { linkId });
    expect(again.json).toMatchObject({
      statuscode: 'RPI',
      status: 'Link cannot be cancelled in status CANCELLED',
    });
    const unknown = await upstreamPost(sandbox.url, '/payments/payout/link/cancel', { linkId: 'nope' });
    expect(unknown.json).toMatchObject({ statuscode: 'RPI', status: 'Invalid link id' });
  });

  it('notifies again, adding an activity entry', async () => {
    const linkId = sandbox.createLink({ amount: 5, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    clock.advance(5_000);
    const notified = await upstreamPost(sandbox.url, '/payments/payout/link/notify', { linkId });
    expect(notified.json).toMatchObject({
      statuscode: 'TXN',
      status: 'Notification Sent Successfully',
      data: null,
    });
    const view = (await (await track(sandbox.url, linkId)).json()) as { data: { linkActivity: unknown[] } };
    expect(view.data.linkActivity.at(-1)).toEqual({
      status: 'Payout link notification sent to 9876543210 and beneficiary@example.com',
      activityAt: formatIst(clock.now()),
    });
  });

  it('lists links from query parameters or a GET body', async () => {
    const issued = sandbox.createLink({ amount: 5, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    clock.advance(1_000);
    sandbox.createLink({ amount: 6, timeline: [{ afterMs: 0, status: 'PROCESSING' }] });

    const byQuery = await rawRequest(
      `${sandbox.url}/payments/payout/link/list?status=ISSUED&recordsPerPage=5`,
      {
        headers: SAMPLE_HEADERS,
      },
    );
    const queried = JSON.parse(byQuery.text) as { statuscode: string; data: Record<string, unknown> };
    expect(queried.statuscode).toBe('TXN');
    expect(queried.data).toMatchObject({
      meta: { totalPages: 1, currentPage: 1, totalRecords: 1, recordsPerPage: 5 },
      records: [{ linkId: issued, status: 'ISSUED', amount: 5 }],
    });

    const byBody = await rawRequest(`${sandbox.url}/payments/payout/link/list`, {
      headers: { ...SAMPLE_HEADERS, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        filters: { status: '', contact: '', linkId: '' },
        pagination: { pageNumber: 1, recordsPerPage: 2 },
      }),
    });
    const listed = JSON.parse(byBody.text) as { data: { meta: Record<string, number>; records: unknown[] } };
    // The two links above and the sample link.
    expect(listed.data.meta).toEqual({ totalPages: 2, currentPage: 1, totalRecords: 3, recordsPerPage: 2 });
    expect(listed.data.records).toHaveLength(2);

    const invalid = await rawRequest(`${sandbox.url}/payments/payout/link/list?pageNumber=0`, {
      headers: SAMPLE_HEADERS,
    });
    expect(JSON.parse(invalid.text)).toMatchObject({ statuscode: 'RPI' });
  });
});
