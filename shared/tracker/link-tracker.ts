import { type Clock, systemClock } from '#shared/clock.ts';
import type { EventPublisher } from '#shared/events/event-publisher.ts';
import type { InstantPayClient } from '#shared/instantpay/client.ts';
import type { InstantPayError } from '#shared/instantpay/errors.ts';
import {
  applyFailedCheck,
  applyObservation,
  type FailedCheck,
  type Scheduler,
} from '#shared/link/apply-observation.ts';
import { diffObservation } from '#shared/link/diff-observation.ts';
import type { LinkChange, Trigger } from '#shared/link/link-event.ts';
import type { LinkObservation } from '#shared/link/link-observation.ts';
import { type LinkState, newLinkState } from '#shared/link/link-state.ts';
import { isFinal } from '#shared/link/link-status.ts';
import { maskActivity } from '#shared/link/mask-activity.ts';
import { lastChangeAt, nextCheckAt, type ScheduleConfig } from '#shared/link/recheck-schedule.ts';
import type { EmfWriter } from '#shared/observability/emf.ts';
import { type Log, silentLog } from '#shared/observability/log.ts';
import { METRICS } from '#shared/observability/metric-names.ts';
import type { LinkStore } from '#shared/store/link-store.ts';
import { ConcurrentUpdateError } from './tracker-errors.ts';

interface TrackerConfig {
  stage: string;
  maskPersonalData: boolean;
  schedule: ScheduleConfig;
  /** Re-reads and re-diffs after a write conflict before giving up with a retryable error. */
  maxWriteAttempts?: number;
}

export interface TrackerDeps {
  store: LinkStore;
  upstream: Pick<InstantPayClient, 'trackLink'>;
  publisher: EventPublisher;
  config: TrackerConfig;
  clock?: Clock;
  random?: () => number;
  log?: Log;
  /** `UpstreamFinalConflicts`, as they happen (rare: one EMF line each). */
  metrics?: EmfWriter;
  /** The pause before another try after DynamoDB refused a write for contention (real time). */
  sleep?: (ms: number) => Promise<void>;
}

export interface CheckResult {
  state: LinkState;
  /** Changes this check recorded (and published, unless publishing was deferred). */
  changes: LinkChange[];
  /** Recorded changes not on the bus yet (refused after retries, or deferred): in the outbox. */
  unpublished: number;
  /** This check's write created the link's item (no other writer got there first). */
  created: boolean;
  /** InstantPay answered another status for a link already final: nothing was recorded. */
  finalConflict?: boolean;
}

/** What the caller of a check already knows of the link's item in the table. */
type KnownLink =
  /** Nothing read: an unchanged link costs one conditional write (a scheduled check). */
  | { kind: 'unread' }
  /** Read just now, and the table has no item for the link. */
  | { kind: 'absent' }
  /** Read just now: the diff starts from this state. */
  | { kind: 'read'; state: LinkState };

export interface CheckOptions {
  trigger: Trigger;
  /** `unread` when not given. */
  known?: KnownLink;
  /** Leave publishing to the caller (a sweep batches many links' changes into full PutEvents calls). */
  deferPublishing?: boolean;
}

/** The fields `POST /links` sets; written whatever happens to the observation that comes with them. */
export interface Registration {
  expiresAt?: number;
  reference?: string;
  metadata?: Record<string, string>;
}

/** How {@link LinkTracker.record} writes one observation. */
export interface RecordOptions extends Pick<CheckOptions, 'trigger' | 'deferPublishing'> {
  /** The time of the check, for the state's counters and the schedule. */
  now: number;
  /** `POST /links`'s fields, written on top of whatever the table holds at each try. */
  registration?: Registration;
}

/** Publishes the bus refused for good (the entry itself is at fault) before a change is quarantined. */
const QUARANTINE_AFTER_FAILURES = 3;

/**
 * Per-entry PutEvents errors that say the entry itself can never be accepted (EventBridge's
 * non-retryable codes that are about the entry, not about the caller's permissions or account),
 * and the publisher's own `EntryTooLarge`. A permission or account error is the operator's to fix:
 * those changes stay in the outbox, and its age alarm says so.
 */
const ENTRY_REFUSED_FOR_GOOD = new Set([
  'EntryTooLarge',
  'MalformedDetail',
  'InvalidArgument',
  'RedactionFailure',
]);

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The core of the tracker, shared by the API, the scheduled run and discovery: observe a link
 * upstream, record what changed exactly once, publish it, and keep the link's schedule. Registering
 * a link is `LinkRegistrations` (`link-registrations.ts`), the API's other requests are
 * `LinkRequests` (`link-requests.ts`); the outbox's republishing is the sweep's
 * (`shared/recheck/republish.ts`).
 */
export class LinkTracker {
  private readonly store: LinkStore;
  readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Log;
  private readonly schedule: Scheduler;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly deps: TrackerDeps) {
    this.store = deps.store;
    this.clock = deps.clock ?? systemClock;
    this.random = deps.random ?? Math.random;
    this.log = deps.log ?? silentLog;
    this.sleep = deps.sleep ?? realSleep;
    this.schedule = (input, now) => nextCheckAt(input, now, this.random, deps.config.schedule);
  }

  /**
   * Checks a link now, from what the caller knows of it (see {@link KnownLink}). Upstream errors are
   * thrown as they are; a failed check never changes the stored status.
   */
  async check(linkId: string, options: CheckOptions): Promise<CheckResult> {
    const known = options.known ?? { kind: 'unread' };
    const observed = await this.observe(linkId);
    const now = this.clock.now();

    let stored: LinkState | null;
    if (known.kind === 'unread') {
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
        // A scheduled check never watches again a link unwatched while it was in flight.
        { onlyIfWatched: options.trigger === 'scheduled' },
      );
      if (touched.ok) return { state: touched.state, changes: [], unpublished: 0, created: false };
      stored = touched.current;
    } else stored = known.kind === 'read' ? known.state : null;

    return this.record(observed, stored, {
      trigger: options.trigger,
      now,
      deferPublishing: options.deferPublishing ?? false,
    });
  }

  /**
   * Records a failed scheduled check (backoff, or the end of watching for a link that keeps failing):
   * reads the link, and writes only if it is still due as the sweep found it (`dueAt`), so a check
   * or an unwatch that came in between stands.
   */
  async recordScheduledFailure(
    linkId: string,
    dueAt: number,
    failure: FailedCheck,
  ): Promise<LinkState | null> {
    const state = await this.store.getLink(linkId);
    if (state === null || state.nextCheckAt !== dueAt) return null;
    const next = this.afterFailedCheck(state, this.clock.now(), failure);
    const result = await this.store.saveState(state.version, next);
    if (!result.ok) return null;
    if (next.watchEnded && !state.watchEnded) {
      this.log.warn('stopped watching a link that keeps failing upstream', {
        linkId: state.linkId,
        reason: next.watchEnded.reason,
        error: failure.error,
        statuscode: failure.statuscode,
        failingSince: next.failingSince === null ? null : new Date(next.failingSince).toISOString(),
      });
    }
    return result.state;
  }

  /** What InstantPay says of the link now, masked unless the stage keeps personal data. Throws its typed errors. */
  async observe(linkId: string): Promise<LinkObservation> {
    return this.masked(await this.deps.upstream.trackLink(linkId));
  }

  /**
   * Diff, write, re-read on conflict (bounded), then publish what was recorded. `persisted` is what
   * the caller last read of the table (`null`: no item); a registration's fields go on top of
   * whatever is in the table at each try.
   */
  async record(
    observed: LinkObservation,
    persisted: LinkState | null,
    options: RecordOptions,
  ): Promise<CheckResult> {
    const { linkId } = observed;
    const { trigger, now, registration } = options;
    let current = persisted;
    for (let attempt = 1; attempt <= this.maxWriteAttempts; attempt++) {
      const wanted = registration
        ? withRegistration(current ?? newLinkState(linkId, now), registration)
        : current;
      const pendingRegistration = registration !== undefined && registrationPending(wanted, current);
      // A link discovery found while InstantPay was down: its first change says how it was found.
      const changeTrigger = wanted?.discovered && wanted.sequence === 0 ? 'discovered' : trigger;
      const diff = diffObservation(wanted, observed, {
        trigger: changeTrigger,
        stage: this.deps.config.stage,
      });
      let next: LinkState;
      let changes: LinkChange[] = [];
      if (diff.kind === 'stale' || diff.kind === 'final') {
        const finalConflict = diff.kind === 'final' && diff.conflict;
        if (finalConflict && attempt === 1)
          this.noteFinalConflict(linkId, diff.recorded, diff.observed, trigger);
        if (diff.kind === 'stale')
          this.log.info('stale observation ignored', { linkId, startedAt: observed.startedAt });
        // Nothing to record from this observation; only a registration's own fields may remain to write.
        if (!pendingRegistration || wanted === null) {
          return { state: current ?? wanted!, changes: [], unpublished: 0, created: false, finalConflict };
        }
        next = this.rewatched(wanted, now);
      } else {
        if (diff.kind === 'unchanged' && attempt > 1 && !pendingRegistration && current !== null) {
          // The writer that beat us recorded this same view (or a newer one): nothing left to record.
          return { state: current, changes: [], unpublished: 0, created: false };
        }
        changes = diff.kind === 'changed' ? diff.changes : [];
        next = applyObservation(wanted ?? newLinkState(linkId, now), observed, changes, now, this.schedule, {
          keepUnwatched: trigger === 'scheduled',
        });
      }
      const expectedVersion = current?.version ?? null;
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
        const unpublished = options.deferPublishing ? changes.length : await this.publish(changes);
        return { state: written.state, changes, unpublished, created };
      }
      // Somebody else wrote first: they may have recorded this very change. Diff against theirs.
      current = written.current;
      if (written.contended) await this.pause(attempt);
    }
    throw new ConcurrentUpdateError(linkId);
  }

  /** Tries of a conditional write that others keep beating before giving up with a retryable error. */
  get maxWriteAttempts(): number {
    return this.deps.config.maxWriteAttempts ?? 5;
  }

  /** Full jitter over 25, 50, 100, ... ms: racing writers spread out instead of colliding again. */
  async pause(attempt: number): Promise<void> {
    await this.sleep(Math.round(this.random() * 25 * 2 ** (attempt - 1)));
  }

  /** The state after a failed check at `now`: backoff, or the end of watching for a link that keeps failing. */
  afterFailedCheck(state: LinkState, now: number, failure: FailedCheck): LinkState {
    return applyFailedCheck(state, now, this.schedule, failure, this.deps.config.schedule);
  }

  /** A registration written on its own: watched again (due now) unless final, never past its expiry. */
  rewatched(state: LinkState, now: number): LinkState {
    const final = state.status !== null && isFinal(state.status);
    const { expiryGraceMs, scale } = this.deps.config.schedule;
    let nextCheckAt = final ? null : (state.nextCheckAt ?? now);
    if (nextCheckAt !== null && state.expiresAt !== null)
      nextCheckAt = Math.min(nextCheckAt, Math.max(now, state.expiresAt + expiryGraceMs * scale));
    return { ...state, version: state.version + 1, nextCheckAt, watchEnded: final ? state.watchEnded : null };
  }

  private noteFinalConflict(linkId: string, recorded: string, observed: string, trigger: Trigger): void {
    this.log.warn('InstantPay answered another status for a final link: kept the final one', {
      linkId,
      recordedStatus: recorded,
      observedStatus: observed,
      trigger,
    });
    this.deps.metrics?.publish([{ ...METRICS.upstreamFinalConflicts, values: [1] }]);
  }

  /**
   * Publishes, marks what went out, and leaves the rest in the outbox. Returns how many were left.
   * A change the bus refuses for good (the entry itself is at fault) is quarantined after a few
   * tries, so it never holds the outbox up; the others wait in the outbox for the next run.
   */
  async publish(changes: readonly LinkChange[]): Promise<number> {
    const { published, failed } = await this.deps.publisher.publish(changes);
    const now = this.clock.now();
    if (published.length > 0) {
      const unmarked = await this.store.markPublished(published, now).catch(() => published.length);
      if (unmarked > 0) {
        this.log.warn('published changes not marked published: they will go out again with the same ids', {
          count: unmarked,
        });
      }
    }
    for (const failure of failed) {
      const { linkId, eventId, sequence } = failure.change.detail;
      this.log.warn('change left unpublished for the next run', {
        linkId,
        eventId,
        errorCode: failure.errorCode,
      });
      if (!ENTRY_REFUSED_FOR_GOOD.has(failure.errorCode)) continue;
      try {
        const failures = await this.store.notePublishFailure(failure.change, failure.errorCode, now);
        if (failures < QUARANTINE_AFTER_FAILURES) continue;
        await this.store.quarantine(failure.change, now);
        this.log.error('change quarantined: the bus refuses it for good; the rest of the outbox goes on', {
          linkId,
          eventId,
          sequence,
          errorCode: failure.errorCode,
          failures,
        });
      } catch (error) {
        this.log.warn('could not count a refused publish; the change stays in the outbox', {
          linkId,
          eventId,
          error: error instanceof Error ? error.name : typeof error,
        });
      }
    }
    return failed.length;
  }

  private masked(observation: LinkObservation): LinkObservation {
    if (!this.deps.config.maskPersonalData) return observation;
    return { ...observation, activity: observation.activity.map(maskActivity) };
  }
}

/** `state` with the registration's fields on top. */
export function withRegistration(state: LinkState, details: Registration): LinkState {
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

/**
 * How a failed check counts for the link's give-up clock: only errors about the link itself are
 * permanent; credentials and integration faults are the tracker's or the operator's, never the link's.
 */
export function failedCheckOf(error: InstantPayError): FailedCheck {
  return {
    error: error.name,
    ...(error.statuscode === undefined ? {} : { statuscode: error.statuscode }),
    permanent: error.kind === 'link-not-found' || error.kind === 'rejected' || error.kind === 'protocol',
  };
}
