import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';
import { EVENT_SOURCE, type LinkChange } from '#shared/link/link-event.ts';

/** EventBridge limits: 10 entries and 256 KB per `PutEvents` call. */
export const MAX_ENTRIES_PER_CALL = 10;
export const MAX_BYTES_PER_CALL = 256 * 1024;

let defaultClient: EventBridgeClient | undefined;
function sharedClient(): EventBridgeClient {
  defaultClient ??= new EventBridgeClient(AWS_CLIENT_CONFIG);
  return defaultClient;
}

interface PublishFailure {
  change: LinkChange;
  errorCode: string;
  errorMessage: string;
}

export interface PublishResult {
  published: LinkChange[];
  /** Still unpublished after the bounded retries: they stay in the outbox for a later run. */
  failed: PublishFailure[];
}

export interface EventPublisherOptions {
  eventBusName: string;
  client?: EventBridgeClient;
  /** Attempts per entry, counting the first. */
  maxAttempts?: number;
  /** Delay before retry `n` (1-based). */
  backoffMs?: (attempt: number) => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Publishes recorded changes to the bus in as few `PutEvents` calls as the limits allow. Entries that
 * fail (`FailedEntryCount`, or the whole call) are retried a bounded number of times; whatever still
 * fails is returned, never thrown away, so the caller leaves it in the outbox.
 */
export class EventPublisher {
  private readonly client: EventBridgeClient;
  private readonly maxAttempts: number;
  private readonly backoffMs: (attempt: number) => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: EventPublisherOptions) {
    this.client = options.client ?? sharedClient();
    this.maxAttempts = options.maxAttempts ?? 3;
    this.backoffMs = options.backoffMs ?? ((attempt) => 50 * 2 ** attempt * (0.5 + Math.random() / 2));
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async publish(changes: readonly LinkChange[]): Promise<PublishResult> {
    const published: LinkChange[] = [];
    const failed: PublishFailure[] = [];
    let pending: LinkChange[] = [];
    for (const change of changes) {
      if (entrySize(this.entry(change)) > MAX_BYTES_PER_CALL) {
        failed.push({ change, errorCode: 'EntryTooLarge', errorMessage: 'The event is larger than 256 KB.' });
      } else pending.push(change);
    }

    for (let attempt = 1; pending.length > 0; attempt++) {
      const lastErrors: PublishFailure[] = [];
      for (const batch of batches(pending, (change) => entrySize(this.entry(change)))) {
        const outcome = await this.putBatch(batch);
        published.push(...outcome.published);
        lastErrors.push(...outcome.failed);
      }
      if (lastErrors.length === 0 || attempt >= this.maxAttempts) {
        failed.push(...lastErrors);
        break;
      }
      pending = lastErrors.map((failure) => failure.change);
      await this.sleep(this.backoffMs(attempt));
    }
    return { published, failed };
  }

  private entry(change: LinkChange): PutEventsRequestEntry {
    return {
      EventBusName: this.options.eventBusName,
      Source: EVENT_SOURCE,
      DetailType: change.detailType,
      Detail: JSON.stringify(change.detail),
      Time: new Date(change.detail.observedAt),
    };
  }

  private async putBatch(batch: LinkChange[]): Promise<PublishResult> {
    try {
      const result = await this.client.send(
        new PutEventsCommand({ Entries: batch.map((c) => this.entry(c)) }),
      );
      if (!result.FailedEntryCount) return { published: batch, failed: [] };
      const outcome: PublishResult = { published: [], failed: [] };
      batch.forEach((change, index) => {
        const entry = result.Entries?.[index];
        if (entry?.EventId && !entry.ErrorCode) outcome.published.push(change);
        else {
          outcome.failed.push({
            change,
            errorCode: entry?.ErrorCode ?? 'Unknown',
            errorMessage: entry?.ErrorMessage ?? 'No event id returned.',
          });
        }
      });
      return outcome;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      return {
        published: [],
        failed: batch.map((change) => ({ change, errorCode: name, errorMessage: message })),
      };
    }
  }
}

/** The size EventBridge counts for an entry: source, detail type, detail and resources, in UTF-8 bytes. */
export function entrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time ? 14 : 0;
  for (const text of [entry.Source, entry.DetailType, entry.Detail, ...(entry.Resources ?? [])]) {
    if (text) size += Buffer.byteLength(text, 'utf8');
  }
  return size;
}

/** Splits entries, in order, into batches within both limits. */
export function batches<T>(items: readonly T[], sizeOf: (item: T) => number): T[][] {
  const result: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (
      current.length === MAX_ENTRIES_PER_CALL ||
      (current.length > 0 && bytes + size > MAX_BYTES_PER_CALL)
    ) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) result.push(current);
  return result;
}
