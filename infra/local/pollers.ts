import type { DeliverHandler } from '#functions/deliver-webhooks/wiring.ts';
import type { DiscoverHandler } from '#functions/discover-links/wiring.ts';
import type { RecheckHandler } from '#functions/recheck-pending/wiring.ts';
import { ACTIVITY_ADDED } from '#shared/link/link-event.ts';
import { FUNCTION_NAMES } from '#shared/resource-names.ts';
import type { LocalClients } from './aws-resources.ts';
import { lambdaContext } from './lambda-context.ts';
import type { LocalResources } from './local-resources.ts';
import { pollOnce } from './sqs-event-source.ts';

type Print = (line: string) => void;

/** How often the queues are polled: short polls, the emulator serving one request at a time. */
const POLL_EVERY_MS = 200;
/** The functions' timeouts in the stack. */
const RECHECK_TIMEOUT_MS = 60_000;
const DELIVER_TIMEOUT_MS = 30_000;
const DISCOVER_TIMEOUT_MS = 60_000;

export interface Pollers {
  /** Ends every loop after its current turn, at once if it is waiting. */
  stop(): Promise<void>;
}

/**
 * What AWS does on a schedule and on the queues, as loops: the scheduler invoking
 * `recheck-pending` (and `discover-links`, unless turned off), the SQS event sources invoking `deliver-webhooks`, and the console printing
 * every event of the bus.
 */
export function startPollers(options: {
  clients: LocalClients;
  resources: LocalResources;
  handlers: { recheck: RecheckHandler; deliver: DeliverHandler; discover: DiscoverHandler };
  recheckEveryMs: number;
  /** 0: no discovery. */
  discoverEveryMs: number;
  print: Print;
}): Pollers {
  const { clients, resources, handlers, print } = options;
  const loops = new Loops(print);
  loops.start(FUNCTION_NAMES.recheckPending, options.recheckEveryMs, () =>
    handlers.recheck({ shardGroup: 0 }, lambdaContext(FUNCTION_NAMES.recheckPending, RECHECK_TIMEOUT_MS)),
  );
  if (options.discoverEveryMs > 0) {
    loops.start(FUNCTION_NAMES.discoverLinks, options.discoverEveryMs, () =>
      handlers.discover({}, lambdaContext(FUNCTION_NAMES.discoverLinks, DISCOVER_TIMEOUT_MS)),
    );
  }
  loops.start(FUNCTION_NAMES.deliverWebhooks, POLL_EVERY_MS, async () => {
    for (const [index, queue] of resources.queues.entries()) {
      await pollOnce(clients.sqs, queue, async (event) => {
        const result = await handlers.deliver(
          event,
          lambdaContext(FUNCTION_NAMES.deliverWebhooks, DELIVER_TIMEOUT_MS),
        );
        const failed = new Set(result.batchItemFailures.map((failure) => failure.itemIdentifier));
        for (const record of event.Records) {
          const detail = safeDetail(record.body);
          const outcome = failed.has(record.messageId) ? 'failed, will retry' : 'done';
          print(
            `delivery ${resources.targets[index]?.name} ${detail.eventId ?? record.messageId} (${detail.linkId ?? '?'} #${detail.sequence ?? '?'}): ${outcome}`,
          );
        }
        return result;
      });
    }
  });
  loops.start('console', POLL_EVERY_MS, () =>
    pollOnce(clients.sqs, resources.consoleQueue, async (event) => {
      for (const record of event.Records) {
        const detail = safeDetail(record.body);
        const change =
          detail.detailType === ACTIVITY_ADDED
            ? `activity added (${detail.status})`
            : `${detail.previousStatus ?? '(new)'} -> ${detail.status}`;
        print(`event    ${detail.linkId} #${detail.sequence} ${change} [${detail.trigger}]`);
      }
      return { batchItemFailures: [] };
    }),
  );
  return { stop: () => loops.stop() };
}

/** Loops that each run a body every so often, print what fails, and stop cleanly. */
class Loops {
  private running = true;
  private readonly loops: Array<Promise<void>> = [];
  private readonly wakers = new Set<() => void>();

  constructor(private readonly print: Print) {}

  start(name: string, everyMs: number, body: () => Promise<unknown>): void {
    this.loops.push(
      (async () => {
        while (this.running) {
          const started = Date.now();
          try {
            await body();
          } catch (error) {
            this.print(`${name}: ${error instanceof Error ? error.message : String(error)}`);
          }
          await this.sleep(Math.max(0, everyMs - (Date.now() - started)));
        }
      })(),
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.wakers) wake();
    await Promise.all(this.loops);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (!this.running) return resolve();
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}

function safeDetail(body: string): Record<string, string | number | undefined> {
  try {
    const event = JSON.parse(body) as { 'detail-type'?: string; detail?: Record<string, string | number> };
    return { ...event.detail, detailType: event['detail-type'] };
  } catch {
    return {};
  }
}
