import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export interface HttpRequestParts {
  method: string;
  /** The path as sent, percent-encoding kept, without the query string. */
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  /** Raw bytes of the body, if any. */
  body?: Buffer | string;
  sourceIp?: string;
}

const TEXT_TYPES = /^(application\/(json|problem\+json|[\w.+-]*\+json|x-www-form-urlencoded)|text\/)/i;

/**
 * Builds the API Gateway HTTP API (payload format 2.0) event that API Gateway would hand the
 * function for this request, as the local cloud and the tests do.
 */
export function httpApiEvent(request: HttpRequestParts): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  const rawQueryString = request.rawQueryString ?? '';
  const queryStringParameters = parseQuery(rawQueryString);
  const now = new Date();
  const method = request.method.toUpperCase();
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: '$default',
    rawPath: request.rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: request.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (queryStringParameters) event.queryStringParameters = queryStringParameters;
  if (request.body !== undefined && request.body.length > 0) {
    const bytes = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
    // API Gateway passes text bodies as they are and base64-encodes anything else.
    const text = TEXT_TYPES.test(headers['content-type'] ?? '') && isUtf8(bytes);
    event.body = text ? bytes.toString('utf8') : bytes.toString('base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

/** A request URL's path and query as API Gateway splits them: at the first `?`, encoding kept. */
export function splitUrl(url = '/'): { rawPath: string; rawQueryString: string } {
  const [rawPath = '/', rawQueryString = ''] = url.split(/\?(.*)/s);
  return { rawPath, rawQueryString };
}

/** The event API Gateway would make of a Node HTTP request whose body has been read. */
export function httpApiEventOf(request: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  return httpApiEvent({
    method: request.method ?? 'GET',
    ...splitUrl(request.url),
    headers: request.headers as Record<string, string>,
    body,
    sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
  });
}

/** Writes a function's result as API Gateway would answer it (a base64 body decoded). */
export function writeApiResult(response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  response.writeHead(result.statusCode ?? 200, { ...(result.headers ?? {}) } as Record<string, string>);
  response.end(
    result.body === undefined
      ? undefined
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'),
  );
}

/** Like API Gateway: repeated keys are joined with commas; `undefined` when there is no query. */
function parseQuery(raw: string): Record<string, string> | undefined {
  if (raw === '') return undefined;
  const joined = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(raw)) {
    const before = joined.get(key);
    joined.set(key, before === undefined ? value : `${before},${value}`);
  }
  // fromEntries defines own properties, so even `__proto__` stays an ordinary key.
  return Object.fromEntries(joined);
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
