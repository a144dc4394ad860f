import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { httpApiEventOf, writeApiResult } from '#infra/local/http-api-event.ts';

type Api = (event: APIGatewayProxyEventV2) => Promise<unknown>;

/**
 * The tracker API of a test fixture behind a loopback HTTP server, requests turned into API Gateway v2
 * events as the local cloud does. It records what it received, and can play API Gateway refusing a
 * signed request (`refuseSigned`), so the CLI is tested over real HTTP.
 */
export async function serveApi(api: Api) {
  const received: Array<{ method: string; url: string; headers: IncomingHttpHeaders }> = [];
  const state = { refuseSigned: false };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        received.push({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers });
        if (state.refuseSigned && request.headers.authorization) {
          response.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Forbidden"}');
          return;
        }
        writeApiResult(
          response,
          (await api(httpApiEventOf(request, Buffer.concat(chunks)))) as APIGatewayProxyStructuredResultV2,
        );
      })().catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
