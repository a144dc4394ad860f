import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { httpApiEvent, splitUrl, writeApiResult } from '#infra/local/http-api-event.ts';

describe('httpApiEvent', () => {
  it('builds a payload format 2.0 event with the method upper-cased and the raw path kept', () => {
    const event = httpApiEvent({ method: 'get', rawPath: '/links/abc%2Fdef' });

    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('$default');
    expect(event.rawPath).toBe('/links/abc%2Fdef');
    expect(event.requestContext.http.method).toBe('GET');
    expect(event.requestContext.http.path).toBe('/links/abc%2Fdef');
    expect(event.requestContext.http.sourceIp).toBe('127.0.0.1');
    expect(event.requestContext.requestId).not.toBe('');
  });

  it('gives every event its own request id', () => {
    const first = httpApiEvent({ method: 'GET', rawPath: '/links' });
    const second = httpApiEvent({ method: 'GET', rawPath: '/links' });

    expect(first.requestContext.requestId).not.toBe(second.requestContext.requestId);
  });

  it('parses the query string and keeps it raw as well', () => {
    const event = httpApiEvent({
      method: 'GET',
      rawPath: '/links',
      rawQueryString: 'state=watching&limit=10&cursor=a%2Bb%3D',
    });

    expect(event.rawQueryString).toBe('state=watching&limit=10&cursor=a%2Bb%3D');
    expect(event.queryStringParameters).toEqual({ state: 'watching', limit: '10', cursor: 'a+b=' });
  });

  it('joins the values of a repeated query key with commas', () => {
    const event = httpApiEvent({
      method: 'GET',
      rawPath: '/links',
      rawQueryString: 'state=a&x=1&state=b&state=c',
    });

    expect(event.queryStringParameters).toEqual({ state: 'a,b,c', x: '1' });
  });

  it('leaves queryStringParameters out when there is no query', () => {
    const event = httpApiEvent({ method: 'GET', rawPath: '/links' });

    expect(event.rawQueryString).toBe('');
    expect(event).not.toHaveProperty('queryStringParameters');
  });

  it('treats a key named like an Object.prototype member as a normal key', () => {
    const event = httpApiEvent({
      method: 'GET',
      rawPath: '/links',
      rawQueryString: 'constructor=a&constructor=b&toString=c&hasOwnProperty=d',
    });

    expect(event.queryStringParameters).toEqual({ constructor: 'a,b', toString: 'c', hasOwnProperty: 'd' });
  });

  it('treats a __proto__ query key as a normal key', () => {
    const event = httpApiEvent({
      method: 'GET',
      rawPath: '/links',
      rawQueryString: '__proto__=x&state=final',
    });

    const parameters = event.queryStringParameters!;
    expect(Object.keys(parameters)).toEqual(['__proto__', 'state']);
    expect(Object.getOwnPropertyDescriptor(parameters, '__proto__')?.value).toBe('x');
    expect(Object.getPrototypeOf(parameters)).toBe(Object.prototype);
  });

  it('lower-cases header names and drops undefined headers', () => {
    const event = httpApiEvent({
      method: 'POST',
      rawPath: '/links',
      headers: {
        'Content-Type': 'application/json',
        'X-Request-Id': 'r-1',
        'User-Agent': 'curl/8',
        Skipped: undefined,
      },
    });

    expect(event.headers).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'r-1',
      'user-agent': 'curl/8',
    });
    expect(event.requestContext.http.userAgent).toBe('curl/8');
  });

  it('passes a JSON body as text', () => {
    const body = JSON.stringify({ linkId: '65704add83911e52b70ebcbc', reference: 'Zahlung für €5' });

    const event = httpApiEvent({
      method: 'POST',
      rawPath: '/links',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: Buffer.from(body, 'utf8'),
    });

    expect(event.body).toBe(body);
    expect(event.isBase64Encoded).toBe(false);
  });

  it('passes a JSON body given as a string as text', () => {
    const event = httpApiEvent({
      method: 'POST',
      rawPath: '/links',
      headers: { 'Content-Type': 'application/json' },
      body: '{"linkId":"abc"}',
    });

    expect(event.body).toBe('{"linkId":"abc"}');
    expect(event.isBase64Encoded).toBe(false);
  });

  it('base64-encodes a body that is not UTF-8 even when it claims to be JSON', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);

    const event = httpApiEvent({
      method: 'POST',
      rawPath: '/links',
      headers: { 'content-type': 'application/json' },
      body: bytes,
    });

    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64')).toEqual(bytes);
  });

  it('base64-encodes a binary body', () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]);

    const event = httpApiEvent({
      method: 'PUT',
      rawPath: '/links',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });

    expect(event.isBase64Encoded).toBe(true);
    expect(event.body).toBe(bytes.toString('base64'));
  });

  it('leaves the body out when there is none', () => {
    const noBody = httpApiEvent({ method: 'GET', rawPath: '/links/abc' });
    const emptyBody = httpApiEvent({ method: 'POST', rawPath: '/links', body: Buffer.alloc(0) });

    expect(noBody).not.toHaveProperty('body');
    expect(noBody.isBase64Encoded).toBe(false);
    expect(emptyBody).not.toHaveProperty('body');
    expect(emptyBody.isBase64Encoded).toBe(false);
  });
});

describe('splitUrl', () => {
  it('splits at the first ?, keeping the encoding of both parts', () => {
    expect(splitUrl('/links/a%2Fb?x=1?y=%20')).toEqual({
      rawPath: '/links/a%2Fb',
      rawQueryString: 'x=1?y=%20',
    });
    expect(splitUrl('/links')).toEqual({ rawPath: '/links', rawQueryString: '' });
    expect(splitUrl(undefined)).toEqual({ rawPath: '/', rawQueryString: '' });
  });
});

describe('writeApiResult', () => {
  function written(result: Parameters<typeof writeApiResult>[1]) {
    const out: { status?: number; headers?: Record<string, string>; body?: Buffer } = {};
    const response = {
      writeHead(status: number, headers: Record<string, string>) {
        out.status = status;
        out.headers = headers;
        return this;
      },
      end(body?: Buffer) {
        out.body = body;
      },
    } as unknown as ServerResponse;
    writeApiResult(response, result);
    return out;
  }

  it('answers the status, headers and body of the result, a base64 body decoded', () => {
    expect(
      written({ statusCode: 201, headers: { 'content-type': 'application/json' }, body: '{"a":1}' }),
    ).toEqual({
      status: 201,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"a":1}'),
    });
    expect(
      written({ body: Buffer.from([0xff, 0x00]).toString('base64'), isBase64Encoded: true }),
    ).toMatchObject({
      status: 200,
      body: Buffer.from([0xff, 0x00]),
    });
    expect(written({ statusCode: 204 })).toEqual({ status: 204, headers: {}, body: undefined });
  });
});
