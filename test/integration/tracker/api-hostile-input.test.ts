import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpApiEvent } from '#infra/local/http-api-event.ts';
import { type ApiResponse, trackerFixture } from '#test/support/tracker-fixture.ts';

let world: Awaited<ReturnType<typeof trackerFixture>>;

beforeAll(async () => {
  world = await trackerFixture();
});
afterAll(async () => {
  await world.close();
});

const issued = () => world.sandbox.createLink({ amount: 3, timeline: [{ afterMs: 0, status: 'ISSUED' }] });

/** A 400 problem whose text does not contain any of `junk` (as sent or as JSON would escape it). */
function expectRefusedWithout(response: ApiResponse, junk: readonly string[]) {
  expect(response.status).toBe(400);
  expect(response.headers['content-type']).toBe('application/problem+json');
  const text = JSON.stringify(response.body);
  for (const piece of junk) {
    expect(text).not.toContain(piece);
    expect(text).not.toContain(JSON.stringify(piece).slice(1, -1));
  }
}

describe('the API refuses hostile input without echoing it', () => {
  it('names an unknown field by its path, cut short and with unsafe characters replaced, never its value', async () => {
    const html = `<img src=x onerror=alert(1)>${'A'.repeat(4_000)}`;
    const response = await world.call('POST', '/links', {
      body: { linkId: issued(), [html]: 'v', surprise: true },
    });

    expectRefusedWithout(response, [html, '<img', 'onerror=alert(1)', 'A'.repeat(100)]);
    expect(response.body.errors).toEqual([
      `?img?src?x?onerror?alert?1??AAAA...: unknown field`,
      'surprise: unknown field',
    ]);
    expect(JSON.stringify(response.body).length).toBeLessThan(600);
  });

  it('names a metadata key that is too long or too odd by a cut, safe path', async () => {
    const longKey = `k${'<'.repeat(5_000)}`;
    const response = await world.call('POST', '/links', {
      body: { linkId: issued(), metadata: { [longKey]: 'v', '<b>': 'x'.repeat(300) } },
    });

    expectRefusedWithout(response, [longKey, '<<<', '<b>']);
    expect(response.body.errors).toEqual([
      expect.stringMatching(/^metadata\.k\?{31}\.\.\.: /),
      expect.stringMatching(/^metadata\.\?b\?: /),
    ]);
  });

  it.each([
    ['the reference', (linkId: string) => `{"linkId":"${linkId}","reference":"INV-\\ud800"}`, 'reference'],
    [
      'a metadata key',
      (linkId: string) => `{"linkId":"${linkId}","metadata":{"\\udc00k":"v"}}`,
      'metadata.?k',
    ],
    [
      'a metadata value',
      (linkId: string) => `{"linkId":"${linkId}","metadata":{"k":"a\\ud800b"}}`,
      'metadata.k',
    ],
    ['an unknown key', (linkId: string) => `{"linkId":"${linkId}","\\udbff":1}`, '?'],
  ])('answers 400, not 500, for a lone surrogate in %s, and stores nothing', async (_where, body, path) => {
    const linkId = issued();
    const response = await world.call('POST', '/links', { rawBody: body(linkId) });

    expectRefusedWithout(response, ['\ud800', '\udc00', '\udbff']);
    expect(response.body.errors).toEqual([`${path}: not well-formed Unicode`]);
    expect(await world.store.getLink(linkId)).toBeNull();
  });

  it('answers 400 for a lone surrogate in a query parameter or in the path', async () => {
    const linkId = issued();
    // API Gateway hands the function decoded parameters; a URL cannot carry a lone surrogate to
    // URLSearchParams (it makes it U+FFFD), so the event is given its parameters as they would arrive.
    for (const [path, parameters] of [
      ['/links', { cursor: '\ud800' }],
      ['/links', { state: 'watching', x: '\udc00' }],
      ['/links', { '\udc00': '1' }],
      [`/links/${linkId}`, { maxAgeSeconds: '\ud800' }],
      ['/links/\ud800', undefined],
      [`/links/${linkId}/\udfff`, undefined],
    ] as const) {
      const event = httpApiEvent({ method: 'GET', rawPath: path });
      if (parameters) event.queryStringParameters = { ...parameters };
      const result = (await world.api(event)) as APIGatewayProxyStructuredResultV2;
      const response = {
        status: result.statusCode ?? 200,
        headers: result.headers as Record<string, string>,
        body: JSON.parse(result.body ?? '{}'),
      };
      expectRefusedWithout(response, ['\ud800', '\udc00', '\udfff']);
      expect(response.body.errors.join()).toMatch(/not well-formed Unicode/);
    }
  });

  it('still accepts well-formed text outside the basic plane (a surrogate pair)', async () => {
    const linkId = issued();
    const response = await world.call('POST', '/links', {
      rawBody: `{"linkId":"${linkId}","reference":"INV \\ud83d\\ude00","metadata":{"\\ud83d\\ude00":"ok"}}`,
    });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ reference: 'INV 😀', metadata: { '😀': 'ok' } });
  });
});
