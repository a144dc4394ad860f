import type { Logger } from '@aws-lambda-powertools/logger';
import { type Clock, systemClock } from '#shared/clock.ts';
import type { EventPublisher } from '#shared/events/event-publisher.ts';
import type { InstantPayClient, LinkObservation } from '#shared/instantpay/client.ts';
import { UpstreamUnavailableError } from '#shared/instantpay/errors.ts';
import { applyFailedCheck, applyObservation, type Scheduler } from '#shared/link/apply-observation.ts';
import { diffObservation } from '#shared/link/diff-observation.ts';
import type { LinkChange, Trigger } from '#shared/link/link-event.ts';
import { type LinkState, newLinkState } from '#shared/link/link-state.ts';
import { maskActivity } from '#shared/link/mask-activity.ts';
import { lastChangeAt, nextCheckAt, type ScheduleConfig } from '#shared/link/recheck-schedule.ts';
import type { LinkStore, ListState, StoredChange } from '#shared/store/link-store.ts';
import * as z from '#shared/zod.ts';
import { ConcurrentUpdateError, InvalidRequestError, LinkNotTrackedError } from './tracker-errors.ts';

/** Where structured log lines go (Powertools' Logger). Nothing secret or unmasked is passed to it. */
export type TrackerLog = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface TrackerConfig {
  stage: string;
  maskPersonalData: boolean;
  schedule: ScheduleConfig;
  /** Re-reads and re-diffs after a write conflict before giving up with a retryable error. */
  maxWriteAttempts?: number;
}

export interface TrackerDeps {
  store: LinkStore;
  upstream: InstantPayClient;
  publisher: EventPublisher;
  config: TrackerConfig;
  clock?: Clock;
  random?: () => number;
  log?: TrackerLog;
}

export interface CheckResult {
  state: LinkState;
  /** Changes this check recorded (and published, unless publishing was deferred). */
  changes: LinkChange[];
  /** Recorded changes not on the bus yet (refused after retries, or deferred): in the outbox. */
  unpublished: number;
  /** This check's write created the link's item (no other writer got there first). */
  created: boolean;
}

/** A change still unpublished this long after it was recorded was left behind by a failure. */
export const REPUBLISH_AFTER_MS = 30_000;

const silent: TrackerLog = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * The core of the tracker, shared by the API and the scheduled run: observe a link upstream, record
 * what changed exactly once, publish it, and keep the link's schedule.
 */
export class LinkTracker {
  readonly store: LinkStore;
  readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: TrackerLog;
  private readonly schedule: Scheduler;

  constructor(private readonly deps: TrackerDeps) {
    this.store = deps.store;
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
    this.log = deps.log ?? silent;
    this.schedule = (input, now) => nextCheckAt(input, now, this.random, deps.config.schedule);
  }

  /**
   * Checks a link now. Without `known` (the on-demand path) an unchanged link costs one conditional
   * write; with `known` (a state just read or claimed) the diff starts from it. Upstream errors are
   * thrown as they are; a failed check never changes the stored status.
   */
  async check(
    linkId: string,
    trigger: Trigger,
    known?: LinkState | null,
    options: { deferPublishing?: boolean } = {},
  ): Promise<CheckResult> {
    const observed = this.masked(await this.deps.upstream.trackLink(linkId));
    const now = this.clock.now();

    let stored: LinkState | null;
    if (known === undefined) {
      const next = this.schedule(
        {
          status: observed.status,
          lastChangeAt: lastChangeAt(observed.activity, null),
          consecutiveErrors: 0,
          expiresAt: null,
        },
        now,
      );
      const touched = await this.store.touchIfUnchanged(
        observed,
        next,
        now,
        this.deps.config.schedule.expiryGraceMs,
      );
      if (touched.ok) return { state: touched.state, changes: [], unpublished: 0, created: false };
      stored = touched.current;
    } else stored = known;

    return this.record(linkId, observed, stored, trigger, now, stored, options.deferPublishing ?? false);
  }

  /** Records a failed check (backoff) on a link whose state is known, unless somebody else wrote first. */
  async recordFailure(state: LinkState): Promise<LinkState | null> {
    const result = await this.store.saveState(
      state.version,
      applyFailedCheck(state, this.clock.now(), this.schedule),
    );
    return result.ok ? result.state : null;
  }

  /**
   * Registers a link for watching (idempotent) and checks it once. A link InstantPay does not know
   * is not stored; while InstantPay is unavailable the link is stored, watched with backoff, and
   * the error is rethrown so the caller can say so.
   */
  async register(
    linkId: string,
    details: { expiresAt?: number; reference?: string; metadata?: Record<string, string> },
  ): Promise<CheckResult> {
    const existing = await this.store.getLink(linkId);
    const base = withRegistration(existing ?? newLinkState(linkId, this.clock.now()), details);
    let observed: LinkObservation;
    try {
      observed = this.masked(await this.deps.upstream.trackLink(linkId));
    } catch (error) {
      if (error instanceof UpstreamUnavailableError) await this.keepWatching(existing, base);
      throw error;
    }
    // Created only by the call whose write made the item: of racing registrations, one answers 201.
    return this.record(linkId, observed, base, 'on-demand', this.clock.now(), existing);
  }

  private async keepWatching(existing: LinkState | null, base: LinkState): Promise<void> {
    const next = applyFailedCheck(base, this.clock.now(), this.schedule);
    const saved = await this.store.saveState(existing?.version ?? null, next);
    if (!saved.ok) this.log.warn('registration raced another writer', { linkId: base.linkId });
  }

  /** Diff, write, re-read on conflict (bounded), then publish what was recorded. */
  private async record(
    linkId: string,
    observed: LinkObservation,
    initial: LinkState | null,
    trigger: Trigger,
    now: number,
    /** What is really in the table when `initial` carries unsaved edits (a registration). */
    persisted: LinkState | null = initial,
    /** Leave publishing to the caller (a sweep batches many links' changes into full PutEvents calls). */
    deferPublishing = false,
  ): Promise<CheckResult> {
    let stored = initial;
    let persistedAfterConflict: LinkState | null = null;
    let expectedVersion = persisted === null ? null : persisted.version;
    const attempts = this.deps.config.maxWriteAttempts ?? 4;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const base = stored ?? newLinkState(linkId, now);
      const diff = diffObservation(stored, observed, { trigger, stage: this.deps.config.stage });
      if (diff.kind === 'stale') {
        this.log.info('stale observation ignored', { linkId, startedAt: observed.startedAt });
        return { state: base, changes: [], unpublished: 0, created: false };
      }
      if (diff.kind === 'unchanged' && attempt > 1 && !registrationPending(stored, persistedAfterConflict)) {
        // The writer that beat us recorded this same view (or a newer one): nothing left to record.
        return { state: persistedAfterConflict ?? base, changes: [], unpublished: 0, created: false };
      }
      const changes = diff.kind === 'changed' ? diff.changes : [];
      const next = applyObservation(base, observed, changes, now, this.schedule);
      const written =
        changes.length > 0
          ? await this.store.commitChanges(expectedVersion, next, changes, now)
          : await this.store.saveState(expectedVersion, next);
      if (written.ok) {
        const created = expectedVersion === null;
        if (changes.length === 0) return { state: written.state, changes, unpublished: 0, created };
        for (const change of changes) {
          this.log.info('change recorded', {
            linkId,
            sequence: change.detail.sequence,
            previousStatus: change.detail.previousStatus,
            status: change.detail.status,
            eventId: change.detail.eventId,
            trigger,
          });
        }
        // Recorded unpublished (the outbox): a deferred or failed publish is never lost.
        const unpublished = deferPublishing ? changes.length : await this.publish(changes);
        return { state: written.state, changes, unpublished, created };
      }
      // Somebody else wrote first: they may have recorded this very change. Diff against theirs.
      persistedAfterConflict = written.current;
      stored = written.current === null ? null : keepRegistration(written.current, initial);
      expectedVersion = written.current?.version ?? null;
    }
    throw new ConcurrentUpdateError(linkId);
  }

  /** Publishes, marks what went out, and leaves the rest in the outbox. Returns how many were left. */
  async publish(changes: readonly LinkChange[]): Promise<number> {
    const { published, failed } = await this.deps.publisher.publish(changes);
    if (published.length > 0) await this.store.markPublished(published, this.clock.now());
    for (const failure of failed) {
      this.log.warn('change left unpublished for the next run', {
        linkId: failure.change.detail.linkId,
        eventId: failure.change.detail.eventId,
        errorCode: failure.errorCode,
      });
    }
    return failed.length;
  }

  /** Republishes changes an earlier failure left in the outbox, oldest first. */
  async republishPending(
    limit = 100,
    minAgeMs = REPUBLISH_AFTER_MS,
  ): Promise<{ republished: number; remaining: number }> {
    // Only changes their own writer has had time to publish: republishing one still in flight
    // would put it on the bus twice.
    const pending = await this.store.listUnpublished(limit, this.clock.now() - minAgeMs);
    if (pending.length === 0) return { republished: 0, remaining: 0 };
    const remaining = await this.publish(pending);
    return { republished: pending.length - remaining, remaining };
  }

  /** The on-demand read: the stored state when it is fresh enough, else a check now. */
  async trackNow(linkId: string, maxAgeSeconds?: number): Promise<LinkState> {
    if (maxAgeSeconds !== undefined) {
      const stored = await this.store.getLink(linkId, false);
      if (stored?.status != null && stored.lastCheckedAt !== null) {
        if (this.clock.now() - stored.lastCheckedAt <= maxAgeSeconds * 1000) return stored;
      }
      return (await this.check(linkId, 'on-demand', stored)).state;
    }
    return (await this.check(linkId, 'on-demand')).state;
  }

  /** A tracked link's recorded changes, oldest first. */
  async events(linkId: string): Promise<StoredChange[]> {
    const [link, changes] = await Promise.all([
      this.store.getLink(linkId, false),
      this.store.listChanges(linkId),
    ]);
    if (!link) throw new LinkNotTrackedError(linkId);
    return changes;
  }

  /** Stops watching a link; its history stays. */
  async unwatch(linkId: string): Promise<void> {
    for (let attempt = 1; attempt <= (this.deps.config.maxWriteAttempts ?? 4); attempt++) {
      const stored = await this.store.getLink(linkId);
      if (!stored) throw new LinkNotTrackedError(linkId);
      if (stored.nextCheckAt === null) return;
      const saved = await this.store.saveState(stored.version, {
        ...stored,
        version: stored.version + 1,
        nextCheckAt: null,
      });
      if (saved.ok) return;
    }
    throw new ConcurrentUpdateError(linkId);
  }

  /** Links by list state, a page at a time; the cursor is opaque to callers. */
  async list(
    state: ListState,
    limit: number,
    cursor?: string,
  ): Promise<{ links: LinkState[]; nextCursor: string | null }> {
    const { links, lastKey } = await this.store.listLinks(
      state,
      limit,
      cursor === undefined ? undefined : decodeCursor(cursor, state),
    );
    return { links, nextCursor: lastKey ? encodeCursor(lastKey) : null };
  }

  private masked(observation: LinkObservation): LinkObservation {
    if (!this.deps.config.maskPersonalData) return observation;
    return { ...observation, activity: observation.activity.map(maskActivity) };
  }
}

function withRegistration(
  state: LinkState,
  details: { expiresAt?: number; reference?: string; metadata?: Record<string, string> },
): LinkState {
  return {
    ...state,
    ...(details.expiresAt === undefined ? {} : { expiresAt: details.expiresAt }),
    ...(details.reference === undefined ? {} : { reference: details.reference }),
    ...(details.metadata === undefined ? {} : { metadata: details.metadata }),
  };
}

/** Whether `wanted` (a registration applied on top of `persisted`) still has fields to write. */
function registrationPending(wanted: LinkState | null, persisted: LinkState | null): boolean {
  if (wanted === null || persisted === null) return wanted !== persisted;
  return (
    wanted.expiresAt !== persisted.expiresAt ||
    wanted.reference !== persisted.reference ||
    JSON.stringify(wanted.metadata) !== JSON.stringify(persisted.metadata)
  );
}

/** After a conflict, a registration's own fields still apply on top of what the other writer stored. */
function keepRegistration(current: LinkState, initial: LinkState | null): LinkState {
  if (initial === null) return current;
  return withRegistration(current, {
    ...(initial.expiresAt === null ? {} : { expiresAt: initial.expiresAt }),
    ...(initial.reference === undefined ? {} : { reference: initial.reference }),
    ...(initial.metadata === undefined ? {} : { metadata: initial.metadata }),
  });
}

const CursorSchema = z.object({
  pk: z.string().check(z.maxLength(80)),
  sk: z.string().check(z.maxLength(20)),
  listState: z.string().check(z.maxLength(10)),
  linkId: z.string().check(z.maxLength(64)),
});

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string, state: ListState): Record<string, unknown> {
  try {
    const key = CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (key.listState === state && key.pk === `LINK#${key.linkId}`) return key;
  } catch {
    // Falls through to the same error as a cursor of another listing.
  }
  throw new InvalidRequestError('The cursor is not one this listing returned.', ['cursor: invalid']);
}
