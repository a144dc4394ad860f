import type { LinkState } from '#shared/link/link-state.ts';
import { isFinal } from '#shared/link/link-status.ts';
import {
  InvalidCursorError,
  type LinkFilter,
  type LinkPage,
  type LinkQueries,
  type StoredChange,
} from '#shared/store/link-queries.ts';
import type { LinkStore } from '#shared/store/link-store.ts';
import { LinkRegistrations } from './link-registrations.ts';
import type { CheckResult, LinkTracker, Registration } from './link-tracker.ts';
import { ConcurrentUpdateError, InvalidRequestError, LinkNotTrackedError } from './tracker-errors.ts';

export interface LinkRequestsDeps {
  tracker: LinkTracker;
  /** The tracker's own store: a link's state. */
  store: Pick<LinkStore, 'getLink' | 'saveState'>;
  queries: Pick<LinkQueries, 'listChanges' | 'listLinks'>;
}

/**
 * What the API asks of the tracker: register, read now, a link's changes, unwatch, list. Checks are
 * the core's (`LinkTracker`), registrations `LinkRegistrations`'; the scheduled run needs neither
 * the registrations nor the rest.
 */
export class LinkRequests {
  private readonly registrations: LinkRegistrations;

  constructor(private readonly deps: LinkRequestsDeps) {
    this.registrations = new LinkRegistrations({ tracker: deps.tracker, store: deps.store });
  }

  /** {@link LinkRegistrations.register}. */
  register(linkId: string, registration: Registration): Promise<CheckResult> {
    return this.registrations.register(linkId, registration);
  }

  /**
   * The on-demand read. A final link is answered from the table (a final status never changes, so
   * InstantPay is not asked); so is a link checked at most `maxAgeSeconds` ago; any other is checked
   * now, its diff starting from the state just read.
   */
  async trackNow(linkId: string, maxAgeSeconds?: number): Promise<LinkState> {
    const { tracker, store } = this.deps;
    // Strongly consistent unless the caller accepts an older answer: a change recorded a moment ago shows.
    const stored = await store.getLink(linkId, maxAgeSeconds === undefined);
    if (stored?.status != null) {
      if (isFinal(stored.status)) return stored;
      const fresh =
        maxAgeSeconds !== undefined &&
        stored.lastCheckedAt !== null &&
        tracker.clock.now() - stored.lastCheckedAt <= maxAgeSeconds * 1000;
      if (fresh) return stored;
    }
    const known = stored ? { kind: 'read' as const, state: stored } : { kind: 'absent' as const };
    return (await tracker.check(linkId, { trigger: 'on-demand', known })).state;
  }

  /** A tracked link's recorded changes, oldest first. */
  async events(linkId: string): Promise<StoredChange[]> {
    const [link, changes] = await Promise.all([
      this.deps.store.getLink(linkId, false),
      this.deps.queries.listChanges(linkId),
    ]);
    if (!link) throw new LinkNotTrackedError(linkId);
    return changes;
  }

  /** Stops watching a link; its history stays. */
  async unwatch(linkId: string): Promise<void> {
    const { tracker, store } = this.deps;
    for (let attempt = 1; attempt <= tracker.maxWriteAttempts; attempt++) {
      const stored = await store.getLink(linkId);
      if (!stored) throw new LinkNotTrackedError(linkId);
      if (stored.nextCheckAt === null) return;
      const saved = await store.saveState(stored.version, {
        ...stored,
        version: stored.version + 1,
        nextCheckAt: null,
        watchEnded: { reason: 'unwatched', at: tracker.clock.now() },
      });
      if (saved.ok) return;
      if (saved.contended) await tracker.pause(attempt);
    }
    throw new ConcurrentUpdateError(linkId);
  }

  /** Links by list state, status or reference (from an index), a page at a time; the cursor is opaque to callers. */
  async list(filter: LinkFilter, limit: number, cursor?: string): Promise<LinkPage> {
    try {
      return await this.deps.queries.listLinks(filter, limit, cursor);
    } catch (error) {
      if (!(error instanceof InvalidCursorError)) throw error;
      throw new InvalidRequestError(error.message, ['cursor: invalid']);
    }
  }
}
