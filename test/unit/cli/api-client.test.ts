import { describe, expect, it } from 'vitest';
import { ApiError, ApiUnreachableError, createApiClient, type RequestSigner } from '#infra/cli/api-client.ts';

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

function clientAnswering(answer: Answer, options: { baseUrl?: string; signer?: RequestSigner } = {}) {
  const requests: Array<{ method: string; url: string; body: unknown; headers: Record<string, string> }> = [];
  const client = createApiClient({
    baseUrl: options.baseUrl ?? 'http://127.0.0.1:3000',
    ...(options.signer ? { signer: options.signer } : {}),
    fetch: async (input, init) => {
      requests.push({
        method: init?.method ?? 'GET',
        url: String(input),
        body: init?.body,
        headers: Object.fromEntries(new Headers(init?.headers)),
      });
      const body =
        answer.body === undefined
          ? null
          : typeof answer.body === 'string'
            ? answer.body
            : JSON.stringify(answer.body);
      return new Response(body, { status: answer.status, headers: answer.headers ?? {} });
    },
  });
  return { client, requests };
}

const fakeSigner: RequestSigner = async ({ headers }) => ({
  ...headers,
  authorization: 'AWS4-HMAC-SHA256 test',
});

describe('the API client', () => {
  it('maps each call to its route, keeping a base path and encoding the link id', async () => {
    const { client, requests } = clientAnswering(
      { status: 200, body: {} },
      { baseUrl: 'https://api.example.com/v1/' },
    );
    await client.trackLink('a b/c', { maxAgeSeconds: 60 });
    await client.events('link-1');
    await client.list({ state: 'watching' });
    expect(requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'GET https://api.example.com/v1/links/a%20b%2Fc?maxAgeSeconds=60',
      'GET https://api.example.com/v1/links/link-1/events',
      'GET https://api.example.com/v1/links?state=watching',
    ]);
  });

  it('posts a registration as JSON and tells created (201) from known (200)', async () => {
    const created = clientAnswering({ status: 201, body: { linkId: 'l1' } });
    expect(await created.client.registerLink({ linkId: 'l1', reference: 'r' })).toEqual({
      created: true,
      link: { linkId: 'l1' },
    });
    expect(created.requests[0]).toMatchObject({
      method: 'POST',
      url: 'http://127.0.0.1:3000/links',
      body: '{"linkId":"l1","reference":"r"}',
      headers: { 'content-type': 'application/json' },
    });
    const known = clientAnswering({ status: 200, body: { linkId: 'l1' } });
    expect((await known.client.registerLink({ linkId: 'l1' })).created).toBe(false);
  });

  it('takes an empty 204 for unwatch', async () => {
    const { client, requests } = clientAnswering({ status: 204 });
    await expect(client.unwatch('l1')).resolves.toBeUndefined();
    expect(requests[0]?.method).toBe('DELETE');
  });

  it('turns a problem+json answer into an ApiError with its status, title and detail', async () => {
    const { client } = clientAnswering({
      status: 400,
      headers: { 'content-type': 'application/problem+json' },
      body: {
        type: 'urn:payout-link-tracker:problem:invalid-request',
        title: 'Invalid request',
        status: 400,
        detail: 'The link id must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -.',
        errors: ['linkId: invalid'],
      },
    });
    const error = await client.trackLink('bad!').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, problem: { title: 'Invalid request' } });
    expect((error as ApiError).message).toBe(
      'The API refused the request: HTTP 400 Invalid request: The link id must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -. [linkId: invalid]',
    );
  });

  it('reads Retry-After of a 503', async () => {
    const { client } = clientAnswering({
      status: 503,
      headers: { 'retry-after': '7' },
      body: { title: 'InstantPay is unavailable', status: 503, detail: 'Try later.' },
    });
    const error = (await client.trackLink('l1').catch((caught: unknown) => caught)) as ApiError;
    expect(error.retryAfterSeconds).toBe(7);
    expect(error.message).toContain('(retry after 7 s)');
  });

  it("explains API Gateway's 403 to a signed request as an IAM problem", async () => {
    const { client } = clientAnswering(
      { status: 403, body: { message: 'Forbidden' } },
      { signer: fakeSigner },
    );
    const error = (await client.trackLink('l1').catch((caught: unknown) => caught)) as ApiError;
    expect(error.status).toBe(403);
    expect(error.message).toContain(
      'the API refused the signed request: check the IAM policy allows execute-api:Invoke',
    );
    expect(error.message).toContain('"Forbidden"');
  });

  it('reports an answer that is not a problem with its status and message', async () => {
    const { client } = clientAnswering({ status: 502, body: 'Bad Gateway' });
    await expect(client.trackLink('l1')).rejects.toThrow(
      'The API refused the request: HTTP 502 (API Gateway said: "Bad Gateway")',
    );
  });

  it('says when the API cannot be reached', async () => {
    const client = createApiClient({
      baseUrl: 'http://127.0.0.1:1',
      fetch: async () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
        });
      },
      unreachableHint: 'Is it running?',
    });
    const error = await client.trackLink('l1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiUnreachableError);
    expect((error as Error).message).toBe(
      'Could not reach the API at http://127.0.0.1:1: ECONNREFUSED. Is it running?',
    );
  });
});
