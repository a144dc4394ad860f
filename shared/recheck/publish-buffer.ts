import { MAX_ENTRIES_PER_CALL } from '#shared/events/event-publisher.ts';
import type { LinkChange } from '#shared/link/link-event.ts';

/**
 * Gathers the changes a sweep records across links so they leave in full `PutEvents` calls (10
 * entries) instead of one call per change. A batch goes when it is full or `maxDelayMs` after its
 * first change, and whatever is left goes when the sweep ends. The changes are already in the
 * outbox, so a crash before a flush loses nothing: the next run republishes them.
 */
export class PublishBuffer {
  private pending: LinkChange[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly flushes = new Set<Promise<void>>();
  published = 0;
  unpublished = 0;

  constructor(
    private readonly publish: (changes: readonly LinkChange[]) => Promise<number>,
    private readonly maxDelayMs = 1_000,
  ) {}

  add(changes: readonly LinkChange[]): void {
    if (changes.length === 0) return;
    this.pending.push(...changes);
    if (this.pending.length >= MAX_ENTRIES_PER_CALL) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.maxDelayMs);
  }

  /** Sends what is pending now; `drain` waits for every send. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_ENTRIES_PER_CALL);
      const sending = this.publish(batch).then(
        (left) => {
          this.published += batch.length - left;
          this.unpublished += left;
        },
        () => {
          this.unpublished += batch.length;
        },
      );
      this.flushes.add(sending);
      void sending.finally(() => this.flushes.delete(sending));
    }
  }

  async drain(): Promise<void> {
    this.flush();
    while (this.flushes.size > 0) await Promise.all([...this.flushes]);
  }
}
