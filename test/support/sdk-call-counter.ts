import type { MiddlewareStack } from '@smithy/types';

/** Counts the commands a client sends, by name, with an SDK middleware (no mocking). */
// biome-ignore lint/suspicious/noExplicitAny: any SDK v3 client, whatever its input and output types.
export function countCalls(client: { middlewareStack: MiddlewareStack<any, any> }): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return counts;
}
