import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApiEvent } from '#infra/local/http-api-event.ts';
import { type Sandbox, startSandbox } from '#infra/sandbox/server.ts';
import { ProblemSchema } from '#shared/http/problem.schema.ts';
import { EventsResponseSchema, LinkListSchema } from '#shared/http/responses.schema.ts';
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

/** A lone surrogate, and text around it that cannot pair with it (fast-check's strings are ASCII). */
const lone = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));
const withLone = fc
  .tuple(fc.string({ maxLength: 12 }), lone, fc.string({ maxLength: 12 }))
  .map((parts) => parts.join(''));
/** Keys the API must refuse and never repeat: markup, names longer than any path it shows, lone surrogates. */
const junkKey = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        '<script>alert(1)</script>',
        '<img src=x onerror=alert(1)>',
        '"><svg/onload=1>',
        '</p><h1>',
      ),
      fc.string({ maxLength: 40 }),
    )
    .map(([markup, tail]) => markup + tail),
  fc.string({ minLength: 33, maxLength: 3_000 }),
  fc.integer({ min: 1, max: 6_000 }).map((size) => `${'<b>'.repeat(size)}x`),
  withLone,
);
/** JSON's escape of a lone surrogate: a response must carry none. */
const LONE_SURROGATE_IN_JSON =
  /\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}|[\ud800-\udfff]/i;

interface HostileRequest {
  event: APIGatewayProxyEventV2;
  /** What the answer must not contain. */
  junk: string[];
}

const post = (body: unknown, junk: string[]): HostileRequest => ({
  event: httpApiEvent({
    method: 'POST',
    rawPath: '/links',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }),
  junk,
});
const linkIdField = fc.oneof(
  validId,
  fc.constant(null).map(() => known[1]!),
);
/** Values anywhere in a body: some plain, some nested, some carrying a lone surrogate. */
const surrogateValue: fc.Arbitrary<unknown> = fc.oneof(
  withLone,
  fc.array(withLone, { minLength: 1, maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), withLone, { minKeys: 1, maxKeys: 3 }),
  fc
    .nat({ max: 2_000 })
    .chain((depth) =>
      withLone.map((text) => JSON.parse(`${'['.repeat(depth)}${JSON.stringify(text)}${']'.repeat(depth)}`)),
    ),
);
const hostileRequest: fc.Arbitrary<HostileRequest> = fc.oneof(
  // Unknown keys beside a valid registration.
  fc
    .tuple(
      linkIdField,
      fc.uniqueArray(junkKey, { minLength: 1, maxLength: 8 }),
      fc.jsonValue({ maxDepth: 2 }),
    )
    .map(([linkId, keys, value]) =>
      post({ linkId, ...Object.fromEntries(keys.map((key) => [key, value])) }, keys),
    ),
  // Metadata keys too long to be valid, or carrying a lone surrogate.
  fc
    .tuple(linkIdField, fc.oneof(fc.string({ minLength: 65, maxLength: 3_000 }), withLone))
    .map(([linkId, key]) => post({ linkId, metadata: { [key]: 'v' } }, [key])),
  // A lone surrogate in a known field, a metadata value, or deep in an unknown one: whatever else
  // the answer says, it carries no lone surrogate (checked for every answer).
  fc
    .tuple(
      linkIdField,
      fc.constantFrom('reference', 'metadata', 'linkId', 'expiresAt', 'extra'),
      surrogateValue,
    )
    .map(([linkId, field, value]) =>
      post({ linkId, [field]: field === 'metadata' ? { k: value } : value }, []),
    ),
  // A lone surrogate in a query parameter, its name, or a path segment, on every route.
  fc
    .tuple(
      fc.constantFrom('/links', '/links/x', '/links/x/events'),
      fc.constantFrom('GET', 'POST', 'DELETE'),
      fc.oneof(
        fc.tuple(fc.constantFrom('cursor', 'state', 'limit', 'maxAgeSeconds', 'q'), withLone),
        fc.tuple(withLone, fc.string({ maxLength: 8 })),
      ),
    )
    .map(([path, method, [name, value]]) => {
      // URLSearchParams turns a lone surrogate into U+FFFD: the event gets its parameters as decoded.
      const event = httpApiEvent({
        method,
        rawPath: path.replace('/x', `/${known[0]!}`),
        rawQueryString: 'q=1',
      });
      event.queryStringParameters = { [name]: value };
      return { event, junk: [name, value].filter((text) => !isWellFormedText(text)) };
    }),
  fc
    .tuple(fc.constantFrom('links/', 'links/a/', ''), withLone, fc.constantFrom('', '/events'))
    .map(([before, segment, after]) => ({
      event: httpApiEvent({ method: 'GET', rawPath: `/${before}${segment}${after}` }),
      junk: [segment],
    })),
);

function isWellFormedText(text: string): boolean {
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}

/** What a client would receive: status, headers, and the body parsed as JSON (or why it is not). */
async function send(request: {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}) {
  return sendEvent(
    httpApiEvent({
      method: request.method,
      rawPath: request.path,
      rawQueryString: request.query,
      headers: request.headers,
      ...(request.body ? { body: request.body } : {}),
    }),
  );
}

async function sendEvent(event: APIGatewayProxyEventV2) {
  const response = (await world.api(event)) as APIGatewayProxyStructuredResultV2;
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

  it('answers 400, never 5xx, to unknown keys and lone surrogates anywhere, and never echoes them', {
    timeout: 120_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (request) => {
        const response = await sendEvent(request.event);

        expect(response.status).toBe(400);
        expect(response.headers['content-type']).toBe('application/problem+json');
        ProblemSchema.strict().parse(response.json);
        for (const piece of request.junk) {
          expect(response.text).not.toContain(piece);
          expect(response.text).not.toContain(JSON.stringify(piece).slice(1, -1));
        }
        expect(response.text).not.toMatch(LONE_SURROGATE_IN_JSON);
        expect(response.text.length).toBeLessThan(2_000);
      }),
      { numRuns: 300 },
    );
    // Nothing it refused reached InstantPay or the table.
    const upstreamIds = Object.keys(world.sandbox.stats().trackCalls);
    expect(upstreamIds.filter((id) => !LINK_ID_PATTERN.test(id))).toEqual([]);
  });

  it('has a log scan that finds what it looks for, and only that', () => {
    const secret = { label: 'the InstantPay client secret', value: 'not-a-real-secret-3c1f9a7e' };
    const found = (text: string) => sensitiveFindings(text, [secret]);
    expect(found(`{"header":"${secret.value}"}`)).toEqual(['contains the InstantPay client secret']);
    expect(found('sent to 9876543210 and beneficiary@example.com')).toEqual([
      'unmasked phone number: 9876543210',
      'unmasked e-mail address: beneficiary@example.com',
    ]);
    expect(found('{"accountNumber":"7770007428585742"}')).toEqual([
      'unmasked account number: 7770007428585742',
    ]);
    expect(found('call +91 9876543210')).toEqual(['unmasked phone number: +91 9876543210']);
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
