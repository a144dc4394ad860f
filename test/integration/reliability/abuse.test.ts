import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsResponseSchema, LinkListSchema } from '#functions/track-link/responses.ts';
import { httpApiEvent } from '#infra/local/http-api-event.ts';
import { type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import { ProblemSchema } from '#shared/http/problem.schema.ts';
import { LinkViewSchema } from '#shared/link/link-view.schema.ts';
import { LINK_ID_PATTERN } from '#shared/link-id.ts';
import { sensitiveFindings } from '#test/support/log-scan.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';
import { LogBook } from './scenario.ts';

let sandbox: Sandbox;
let world: Awaited<ReturnType<typeof trackerFixture>>;
const logs = new LogBook();
const known: string[] = [];

beforeAll(async () => {
  const sandboxLog: string[] = [];
  logs.addText(sandboxLog);
  sandbox = await startSandbox({ log: (line) => sandboxLog.push(line) });
  world = await trackerFixture({ sandbox });
  logs.add(world.log.lines);
  // Links the sandbox knows, one of them tracked, so valid requests reach every route's success path.
  for (const status of ['ISSUED', 'PROCESSING', 'CLAIMED'])
    known.push(world.sandbox.createLink({ amount: 10, timeline: [{ afterMs: 0, status }] }));
  expect(
    (await world.call('POST', '/links', { body: { linkId: known[0], reference: 'INV-1' } })).status,
  ).toBe(201);
});
afterAll(async () => {
  await world.close();
  await sandbox.close();
});

const MEGABYTE = 1024 * 1024;
const huge = {
  json: Buffer.from(JSON.stringify({ linkId: 'a', metadata: { pad: 'x'.repeat(MEGABYTE) } })),
  text: Buffer.alloc(MEGABYTE, 'a'),
  binary: Buffer.alloc(MEGABYTE, 0xff),
};

const validId = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
const segment = fc.oneof(
  validId,
  fc.constantFrom(...['links', 'events', 'a'.repeat(65), 'x'.repeat(5_000)]),
  fc.constant(null).map(() => known[0]!),
  fc.constantFrom(
    '..',
    '.',
    '%',
    '%2F',
    '%00',
    '%FF',
    '%C0%AF',
    '%E0%A4%A',
    'a%2Fb',
    '😀',
    ' ',
    '\u0000',
    '\uFFFF',
  ),
  fc.string({ maxLength: 80, unit: 'binary' }),
);
/** Mostly paths the router takes a look at: /links, /links/{x}, /links/{x}/events, and anything. */
const path = fc
  .oneof(
    fc.tuple(fc.constant('links'), segment).map((parts) => parts.join('/')),
    fc
      .tuple(fc.constant('links'), segment, fc.constantFrom('events', 'event', ''))
      .map((parts) => parts.join('/')),
    fc.constant('links'),
    fc.array(segment, { maxLength: 5 }).map((parts) => parts.join('/')),
  )
  .map((raw) => `/${raw.replaceAll('?', '%3F').replaceAll('#', '%23')}`);
const method = fc.oneof(
  fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'),
  fc.constantFrom('get', 'TRACE', 'CONNECT', 'PROPFIND', 'X'.repeat(100)),
);
const query = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 200, unit: 'binary' }),
  fc.constantFrom(
    'maxAgeSeconds=-1',
    'maxAgeSeconds=1e9',
    'maxAgeSeconds=86401',
    'maxAgeSeconds=5&maxAgeSeconds=6',
  ),
  fc.constantFrom(
    'state=final&limit=0',
    'limit=101',
    `cursor=${'A'.repeat(2_000)}`,
    '__proto__=1&constructor=x',
  ),
  fc.constant(`q=${'%'.repeat(10_000)}`),
  fc
    .dictionary(
      fc.constantFrom('maxAgeSeconds', 'state', 'limit', 'cursor', 'x'),
      fc.string({ unit: 'binary' }),
    )
    .map((q) => new URLSearchParams(q).toString()),
);
const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,30}$/);
const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'application/json; charset=latin1',
      'text/plain',
      'application/octet-stream',
      'multipart/form-data; boundary=x',
      '',
    ),
    'content-length': fc.constantFrom('0', '-1', '99999999999', 'abc'),
    authorization: fc.constantFrom('AWS4-HMAC-SHA256 Credential=forged', 'Bearer x', ''),
    extra: fc.dictionary(headerName, fc.string({ maxLength: 200, unit: 'binary' }), { maxKeys: 5 }),
  },
  { requiredKeys: [] },
);
const nested = (open: string, close: string) =>
  fc.integer({ min: 1, max: 8_000 }).map((depth) => Buffer.from(open.repeat(depth) + close.repeat(depth)));
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 300, unit: 'binary' }).map((text) => Buffer.from(text)),
  fc.jsonValue({ maxDepth: 5 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc
    .record(
      {
        linkId: fc.oneof(
          validId,
          fc.string({ unit: 'binary' }),
          fc.integer(),
          fc.constant(null).map(() => known[1]!),
        ),
        reference: fc.oneof(fc.string({ maxLength: 200 }), fc.integer()),
        metadata: fc.oneof(fc.dictionary(fc.string(), fc.string(), { maxKeys: 30 }), fc.jsonValue()),
        expiresAt: fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((value) => Buffer.from(JSON.stringify(value))),
  nested('[', ']'),
  nested('{"a":', '}').map((buffer) => Buffer.from(buffer.toString().replace(/}+$/, (end) => `1${end}`))),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(
    Buffer.from([0xc3, 0x28]),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from('{"linkId":"\uD800"}'),
    Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"linkId":"abc"}')]),
  ),
  fc.constantFrom(huge.json, huge.text, huge.binary),
);

/** What a client would receive: status, headers, and the body parsed as JSON (or why it is not). */
async function send(request: {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}) {
  const response = (await world.api(
    httpApiEvent({
      method: request.method,
      rawPath: request.path,
      rawQueryString: request.query,
      headers: request.headers,
      ...(request.body ? { body: request.body } : {}),
    }),
  )) as APIGatewayProxyStructuredResultV2;
  const text = response.body ?? '';
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = Symbol.for('not JSON');
  }
  return {
    status: response.statusCode ?? 200,
    headers: (response.headers ?? {}) as Record<string, string>,
    text,
    json,
  };
}

const SUCCESS_BODIES = [LinkViewSchema.strict(), EventsResponseSchema, LinkListSchema];

describe('abuse: the API under arbitrary input', () => {
  it('never answers 5xx, never calls InstantPay with an invalid id, always answers problem+json or a link view', {
    timeout: 180_000,
  }, async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(method, path, query, headers, body, async (verb, rawPath, rawQuery, hdrs, payload) => {
        const { extra = {}, ...named } = hdrs;
        const response = await send({
          method: verb,
          path: rawPath,
          query: rawQuery,
          headers: { ...extra, ...named },
          body: payload,
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status).toBeGreaterThanOrEqual(200);
        expect(response.status).toBeLessThan(500);
        expect(response.text).not.toMatch(/node_modules|\.ts:\d+|\n\s+at /);
        if (response.status === 204) {
          expect(response.text).toBe('');
        } else if (response.status >= 400) {
          expect(response.headers['content-type']).toBe('application/problem+json');
          const problem = ProblemSchema.strict().parse(response.json);
          expect(problem.status).toBe(response.status);
        } else {
          expect(response.headers['content-type']).toBe('application/json');
          expect(SUCCESS_BODIES.some((schema) => schema.safeParse(response.json).success)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
    // The fuzzing reached the routes' success paths and their refusals.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 400, 404, 405]));

    // InstantPay only ever saw valid ids (the sandbox counts every track request by the id received).
    const upstreamIds = Object.keys(world.sandbox.stats().trackCalls);
    expect(upstreamIds.length).toBeGreaterThan(0);
    expect(upstreamIds.filter((id) => !LINK_ID_PATTERN.test(id))).toEqual([]);
    // Nor did the table get an item for one.
    const { Items = [] } = await world.clients.dynamodb.send(
      new ScanCommand({ TableName: world.names.table }),
    );
    const stored = Items.map((item) => item.pk?.S ?? '').filter((pk) => pk.startsWith('LINK#'));
    expect(stored.filter((pk) => !LINK_ID_PATTERN.test(pk.slice('LINK#'.length)))).toEqual([]);
  });

  it('has a log scan that finds what it looks for, and only that', () => {
    const secret = { label: 'the InstantPay client secret', value: 'not-a-real-secret-3c1f9a7e' };
    const found = (text: string) => sensitiveFindings(text, [secret]);
    expect(found(`{"header":"${secret.value}"}`)).toEqual(['contains the InstantPay client secret']);
    expect(found('sent to 9876543210 and beneficiary@example.com')).toEqual([
      'unmasked 10-digit phone number: 9876543210',
      'unmasked e-mail address: beneficiary@example.com',
    ]);
    expect(found('{"accountNumber":"7770007428585742"}')).toEqual([
      'unmasked 16-digit account number: 7770007428585742',
    ]);
    expect(found('call +91 9876543210')).toEqual(['unmasked 10-digit phone number: +91 9876543210']);
    // What the tracker publishes and logs instead, and identifiers that only look like numbers.
    expect(found('sent to 98XXXXXX10 and b***@example.com, account XXXXXXXXXXXX5742')).toEqual([]);
    expect(
      found('"ipayUuid":"h000abcdef12-3456-4abc-8def-916101402412-Ab3dE5gH7jK9","at":1796119260000'),
    ).toEqual([]);
  });

  it('logged nothing secret or personal while refusing it all', () => {
    expect(logs.lineCount).toBeGreaterThan(0);
    logs.expectClean();
  });
});
