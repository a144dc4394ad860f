import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINK_ID_PATTERN } from '#shared/link-id.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

let world: Awaited<ReturnType<typeof trackerFixture>>;

beforeAll(async () => {
  world = await trackerFixture();
});
afterAll(async () => {
  await world.close();
});

const segment = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
  fc.constantFrom('..', '.', '%', '%2F', '%00', 'a%2Fb', '😀', ' ', 'links', 'events', '%E0%A4%A'),
);
const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS');
const query = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 60 }),
  fc
    .record({
      maxAgeSeconds: fc.oneof(fc.string(), fc.integer().map(String)),
      state: fc.oneof(fc.string(), fc.constantFrom('watching', 'final', 'idle')),
      limit: fc.oneof(fc.string(), fc.integer().map(String)),
      cursor: fc.string(),
    })
    .map((q) => new URLSearchParams(q).toString()),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        linkId: fc.oneof(fc.string(), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.integer()),
        reference: fc.oneof(fc.string(), fc.integer()),
        metadata: fc.oneof(fc.dictionary(fc.string(), fc.string()), fc.jsonValue()),
        expiresAt: fc.oneof(
          fc.string(),
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.nat({ max: 200 }).map((depth) => '['.repeat(depth * 50) + ']'.repeat(depth * 50)),
);

describe('the API under arbitrary input', () => {
  it('never answers 5xx to bad input and never calls InstantPay with an invalid id', async () => {
    await fc.assert(
      fc.asyncProperty(
        method,
        fc.array(segment, { minLength: 0, maxLength: 4 }),
        query,
        body,
        async (verb, segments, rawQuery, rawBody) => {
          const path = `/${segments.map((s) => s.replaceAll('/', '%2F').replaceAll('?', '%3F')).join('/')}`;
          const response = await world.call(verb, path, {
            ...(rawQuery ? { query: rawQuery } : {}),
            ...(rawBody === undefined ? {} : { rawBody }),
          });
          expect(response.status).toBeLessThan(500);
          expect(response.status).toBeGreaterThanOrEqual(200);
          if (response.status >= 400) {
            expect(response.headers['content-type']).toBe('application/problem+json');
            expect(response.body).toMatchObject({ status: response.status, title: expect.any(String) });
          }
        },
      ),
      { numRuns: 300 },
    );
    const upstreamIds = Object.keys(world.sandbox.stats().trackCalls);
    expect(upstreamIds.filter((id) => !LINK_ID_PATTERN.test(id))).toEqual([]);
  });
});
