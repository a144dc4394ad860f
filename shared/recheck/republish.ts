import type { LinkTracker } from '#shared/tracker/link-tracker.ts';
import type { SweepStore } from './sweep-store.ts';

/** A change still unpublished this long after it was recorded was left behind by a failure. */
const REPUBLISH_AFTER_MS = 30_000;

/** Republishes changes an earlier failure left in the outbox, oldest first. */
export async function republishPending(
  deps: { tracker: Pick<LinkTracker, 'publish' | 'clock'>; store: Pick<SweepStore, 'listUnpublished'> },
  limit = 100,
  minAgeMs = REPUBLISH_AFTER_MS,
): Promise<{ republished: number; remaining: number }> {
  // Only changes their own writer has had time to publish: republishing one still in flight
  // would put it on the bus twice.
  const pending = await deps.store.listUnpublished(limit, deps.tracker.clock.now() - minAgeMs);
  if (pending.length === 0) return { republished: 0, remaining: 0 };
  const remaining = await deps.tracker.publish(pending);
  return { republished: pending.length - remaining, remaining };
}
