import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { TrackLinkHandler } from '#functions/track-link/wiring.ts';
import { openApiDocument } from '#infra/schemas/published-schemas.ts';
import { problem } from '#shared/http/problem.ts';
import { FUNCTION_NAMES } from '#shared/resource-names.ts';
import { httpApiEventOf, splitUrl, writeApiResult } from './http-api-event.ts';
import { lambdaContext } from './lambda-context.ts';
import { SINK, SINK_PATH } from './local-stage.ts';

const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** The HTTP API's integration timeout, less a second: what `track-link` is given to answer. */
const API_TIMEOUT_MS = 29_000;

type Print = (line: string) => void;

export interface LocalApi {
  url: string;
  /** From now on requests go to the handler (and the sink); until then each is answered 503. */
  ready(handlers: { trackLink: TrackLinkHandler; webhookSecret: string }): void;
  close(): Promise<void>;
}

/**
 * The API port, listening first so the sink's URL (on it) is known for the subscribers; until every
 * part is ready it answers 503 (a request the port took must never wait for a handler).
 */
export async function listenApi(port: number, print: Print): Promise<LocalApi> {
  let handle: RequestListener = answerStartingUp;
  const server = createServer((request, response) => handle(request, response));
  // Longer than clients keep idle connections (undici: 4 s), so a reused connection is never closed under them.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ready({ trackLink, webhookSecret }) {
      const serve = apiRequestHandler(trackLink, new Webhook(webhookSecret), print);
      handle = (request, response) => {
        void serve(request, response).catch((error: unknown) => {
          print(`api: request failed: ${error instanceof Error ? error.message : String(error)}`);
          if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/problem+json' });
          response.end(
            JSON.stringify({
              type: 'about:blank',
              title: 'Internal error',
              status: 500,
              detail: 'The local API failed.',
            }),
          );
        });
      };
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** What API Gateway and the function would answer, plus the webhook sink and the OpenAPI document. */
function apiRequestHandler(trackLink: TrackLinkHandler, sink: Webhook, print: Print) {
  return async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (body === undefined) {
      response.writeHead(413, { 'content-type': 'application/problem+json' });
      response.end(
        JSON.stringify({
          type: 'about:blank',
          title: 'Payload too large',
          status: 413,
          detail: 'At most 10 MB.',
        }),
      );
      return;
    }
    const { rawPath } = splitUrl(request.url);
    if (rawPath === SINK_PATH && request.method === 'POST') {
      receiveWebhook(sink, request, body, response, print);
      return;
    }
    if (rawPath === '/openapi.json' && request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(openApiDocument(), null, 2));
      return;
    }
    const result = await trackLink(
      httpApiEventOf(request, body),
      lambdaContext(FUNCTION_NAMES.trackLink, API_TIMEOUT_MS),
    );
    writeApiResult(response, result);
  };
}

/** The built-in subscriber: verifies the signature and prints what it received. */
function receiveWebhook(
  sink: Webhook,
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
  print: Print,
): void {
  try {
    const payload = sink.verify(body.toString('utf8'), request.headers as Record<string, string>) as {
      type: string;
      data: { linkId: string; sequence: number };
    };
    print(
      `webhook  ${SINK} received ${payload.type} for ${payload.data.linkId} #${payload.data.sequence} (id ${request.headers['webhook-id']}, signature verified)`,
    );
    response.writeHead(204).end();
  } catch {
    print(
      `webhook  ${SINK} received a delivery whose signature does NOT verify (id ${request.headers['webhook-id']})`,
    );
    response.writeHead(400).end();
  }
}

/** What the API answers before every part of the local cloud is ready. */
function answerStartingUp(request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  response.writeHead(503, {
    'content-type': 'application/problem+json',
    'retry-after': '1',
    connection: 'close',
  });
  response.end(
    JSON.stringify(
      problem(503, 'starting-up', 'Starting up', 'npm start is still starting; try again in a second.'),
    ),
  );
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
