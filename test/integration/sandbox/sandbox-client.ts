import { request } from 'node:http';
import { SAMPLE_CREDENTIALS, SAMPLE_ENDPOINT_IP } from '#infra/sandbox/server.ts';

/** The four headers of the page's sample curl. */
export const SAMPLE_HEADERS: Readonly<Record<string, string>> = {
  'X-Ipay-Auth-Code': '1',
  'X-Ipay-Client-Id': SAMPLE_CREDENTIALS.clientId,
  'X-Ipay-Client-Secret': SAMPLE_CREDENTIALS.clientSecret,
  'X-Ipay-Endpoint-Ip': SAMPLE_ENDPOINT_IP,
};

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A request through node:http, which (unlike fetch) can send a body with a GET, as the page's curl does. */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // An explicit length: Node sends a GET body neither chunked nor with a length otherwise.
    const length =
      options.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(options.body)) };
    const headers = { ...options.headers, ...length };
    const req = request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export async function upstreamPost(baseUrl: string, path: string, body: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { ...SAMPLE_HEADERS, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

export async function track(baseUrl: string, linkId: string, init: RequestInit = {}) {
  return fetch(`${baseUrl}/payments/payout/link/track/${encodeURIComponent(linkId)}`, {
    headers: SAMPLE_HEADERS,
    ...init,
  });
}

export async function control(baseUrl: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
  };
}
