import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  /** The `webhook-id`, and how many times this receiver has seen it (this one included). */
  id: string;
  seen: number;
}

/**
 * A webhook receiver on loopback whose HTTP status is scripted per delivery (`answer`, changeable),
 * keeping every delivery it got.
 */
export async function scriptedReceiver(answer: (delivery: ReceivedWebhook) => number = () => 204) {
  const received: ReceivedWebhook[] = [];
  const seen = new Map<string, number>();
  const receiver = {
    received,
    answer,
    url: '',
    ofId: (id: string) => received.filter((delivery) => delivery.id === id),
    stop: async () => {},
  };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const id = String(request.headers['webhook-id']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      const delivery = { headers: request.headers as Record<string, string>, body, id, seen: seen.get(id)! };
      received.push(delivery);
      response.writeHead(receiver.answer(delivery)).end();
    });
  });
  // Longer than the deliverer keeps an idle connection (undici: 4 s), so it never sends on a socket this closes.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  receiver.stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}
export type ScriptedReceiver = Awaited<ReturnType<typeof scriptedReceiver>>;
