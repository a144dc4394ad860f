import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApiClient, sigV4Signer } from '#infra/cli/api-client.ts';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const signingDate = new Date('2026-01-02T03:04:05Z');

const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** SigV4 as the AWS documentation spells it, independently of the SDK, for the headers that were signed. */
function expectedSignature(request: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
  secretAccessKey: string;
  region: string;
}): string {
  const authorization = request.headers.authorization ?? '';
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)?.[1] ?? '';
  const all: Record<string, string> = { ...request.headers, host: request.url.host };
  const canonicalHeaders = signedHeaders
    .split(';')
    .map((name) => `${name}:${(all[name] ?? '').trim()}\n`)
    .join('');
  const encode = (value: string) =>
    encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = [...request.url.searchParams]
    .map(([key, value]) => [encode(key), encode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  // Not S3: each path segment is encoded once more.
  const path = request.url.pathname
    .split('/')
    .map((segment) => encode(segment))
    .join('/');
  const canonical = [request.method, path, query, canonicalHeaders, signedHeaders, sha256(request.body)].join(
    '\n',
  );
  const amzDate = request.headers['x-amz-date'] ?? '';
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${request.region}/execute-api/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${request.secretAccessKey}`, day);
  for (const part of [request.region, 'execute-api', 'aws4_request']) key = hmac(key, part);
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

describe('SigV4 signing for execute-api', () => {
  it('signs a GET with the credential scope of execute-api and a date it is given', async () => {
    const sign = sigV4Signer({ credentials, region: 'ap-south-1', signingDate });
    const url = new URL(
      'https://abc123.execute-api.ap-south-1.amazonaws.com/links/demo-link-1?maxAgeSeconds=30',
    );
    const headers = await sign({ method: 'GET', url, headers: { accept: 'application/json' } });
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260102\/ap-south-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-date']).toBe('20260102T030405Z');
    expect(headers).not.toHaveProperty('host');
    const signature = /Signature=([0-9a-f]+)/.exec(headers.authorization ?? '')?.[1];
    expect(signature).toBe(
      expectedSignature({
        method: 'GET',
        url,
        headers,
        body: '',
        secretAccessKey: credentials.secretAccessKey,
        region: 'ap-south-1',
      }),
    );
  });

  it('covers the body, odd characters in the path and query, and a session token', async () => {
    const sign = sigV4Signer({
      credentials: async () => ({ ...credentials, sessionToken: 'TOKEN/with+chars=' }),
      region: async () => 'eu-west-1',
      signingDate,
    });
    const url = new URL('https://api.example.com/prod/links/a%20b%21/events?cursor=a%2Bb%2F%3D&state=final');
    const body = JSON.stringify({ linkId: 'x' });
    const headers = await sign({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(headers['x-amz-security-token']).toBe('TOKEN/with+chars=');
    expect(headers.authorization).toContain(
      'Credential=AKIDEXAMPLE/20260102/eu-west-1/execute-api/aws4_request',
    );
    expect(headers.authorization).toMatch(/SignedHeaders=[^,]*content-type/);
    const signature = /Signature=([0-9a-f]+)/.exec(headers.authorization ?? '')?.[1];
    expect(signature).toBe(
      expectedSignature({
        method: 'POST',
        url,
        headers,
        body,
        secretAccessKey: credentials.secretAccessKey,
        region: 'eu-west-1',
      }),
    );
  });

  it('sends exactly the URL and headers it signed', async () => {
    const seen: Array<{ url: string; headers: Headers; body: unknown }> = [];
    const client = createApiClient({
      baseUrl: 'https://abc123.execute-api.ap-south-1.amazonaws.com/',
      signer: sigV4Signer({ credentials, region: 'ap-south-1', signingDate }),
      fetch: async (input, init) => {
        seen.push({ url: String(input), headers: new Headers(init?.headers), body: init?.body });
        return new Response(JSON.stringify({ links: [], nextCursor: null }), { status: 200 });
      },
    });
    await client.list({ state: 'final', limit: 10, cursor: 'ab+/=' });
    const request = seen[0]!;
    expect(request.url).toBe(
      'https://abc123.execute-api.ap-south-1.amazonaws.com/links?state=final&limit=10&cursor=ab%2B%2F%3D',
    );
    const headers = Object.fromEntries(request.headers);
    const url = new URL(request.url);
    expect(/Signature=([0-9a-f]+)/.exec(headers.authorization ?? '')?.[1]).toBe(
      expectedSignature({
        method: 'GET',
        url,
        headers,
        body: '',
        secretAccessKey: credentials.secretAccessKey,
        region: 'ap-south-1',
      }),
    );
  });
});
