import http from 'node:http';
import https from 'node:https';

/** What the client needs of an HTTP answer. */
export interface HttpAnswer {
  status: number;
  retryAfter: string | null;
  text: string;
}

export type HttpGet = (
  url: string,
  headers: Record<string, string>,
  timeoutMs: number,
) => Promise<HttpAnswer>;

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  /** Sent with an explicit `Content-Length`, on a GET too (InstantPay's List call is a GET with a JSON body). */
  body?: string;
}

export type HttpSend = (request: HttpRequest, timeoutMs: number) => Promise<HttpAnswer>;

/** Upstream answers are small; anything bigger is not InstantPay talking. */
const MAX_BODY_BYTES = 1024 * 1024;

// One keep-alive pool per container: connections to InstantPay are reused across calls and
// invocations. (node:http costs about a third of the CPU of fetch per call, which matters to a sweep;
// and fetch refuses a body on a GET.) Idle sockets are dropped after 4 s, before a typical server's
// 5 s keep-alive timeout closes them under a request that is just reusing one.
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 128, timeout: 4_000 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 128, timeout: 4_000 }),
};

/**
 * A request with a deadline for the whole exchange. Redirects are not followed (a 3xx is returned as
 * it is); errors are thrown as they are, a timeout as an `Error` named `TimeoutError`.
 */
export const keepAliveRequest: HttpSend = (spec, timeoutMs) =>
  new Promise((resolve, reject) => {
    const target = new URL(spec.url);
    const transport = target.protocol === 'https:' ? https : http;
    const agent = target.protocol === 'https:' ? agents['https:'] : agents['http:'];
    const headers =
      spec.body === undefined
        ? spec.headers
        : { ...spec.headers, 'Content-Length': String(Buffer.byteLength(spec.body)) };
    const request = transport.request(target, { method: spec.method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) request.destroy(new Error('The answer is larger than 1 MB.'));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        clearTimeout(timer);
        const retryAfter = response.headers['retry-after'];
        resolve({
          status: response.statusCode ?? 0,
          retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
      response.on('error', fail);
    });
    const timer = setTimeout(() => {
      const timeout = new Error(`No answer within ${timeoutMs} ms.`);
      timeout.name = 'TimeoutError';
      request.destroy(timeout);
    }, timeoutMs);
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    request.on('error', fail);
    request.end(spec.body);
  });

/** A GET without a body (Track Link). */
export const keepAliveGet: HttpGet = (url, headers, timeoutMs) =>
  keepAliveRequest({ method: 'GET', url, headers }, timeoutMs);
