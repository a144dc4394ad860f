import { UpstreamUnavailableError } from '#shared/instantpay/errors.ts';
import type { Trigger } from '#shared/link/link-event.ts';
import type { LinkObservation } from '#shared/link/link-observation.ts';
import { type LinkState, newLinkState } from '#shared/link/link-state.ts';
import type { LinkStore } from '#shared/store/link-store.ts';
import {
  type CheckResult,
  failedCheckOf,
  type LinkTracker,
  type Registration,
  withRegistration,
} from './link-tracker.ts';
import { ConcurrentUpdateError } from './tracker-errors.ts';

export interface LinkRegistrationsDeps {
  tracker: LinkTracker;
  /** The tracker's own store. */
  store: Pick<LinkStore, 'getLink' | 'saveState'>;
}

/** How a registration is made: `POST /links` (`on-demand`), or discovery's. */
interface RegisterOptions {
  /** The trigger of the changes this registration records. */
  trigger: Trigger;
  /** Register only a link the table does not hold at all (answers `null` otherwise, without calling InstantPay). */
  onlyIfUnknown?: boolean;
}

/**
 * Registering a link for watching: the API's `POST /links` and discovery's. A use case of its own
 * over the core (`LinkTracker`), which the scheduled run, never registering, does not bundle.
 */
export class LinkRegistrations {
  constructor(private readonly deps: LinkRegistrationsDeps) {}

  /**
   * Registers a link for watching (idempotent) and checks it once. A link InstantPay does not know
   * is not stored; while InstantPay is unavailable the link is stored, watched with backoff, and
   * the error is rethrown so the caller can say so. The registration's fields are written whatever
   * the observation turns out to be (stale, or about a link already final).
   */
  async register(linkId: string, registration: Registration): Promise<CheckResult> {
    return (await this.registerAs(linkId, registration, { trigger: 'on-demand' }))!;
  }

  /**
   * Registers a link the discovery run found, exactly as {@link register} would, but only if the
   * table holds no item for it (a link somebody registered, or unwatched, is never taken back):
   * `null` then, without calling InstantPay. Its first changes carry `trigger: "discovered"`.
   */
  async registerDiscovered(linkId: string, registration: Registration): Promise<CheckResult | null> {
    return this.registerAs(linkId, registration, { trigger: 'discovered', onlyIfUnknown: true });
  }

  private async registerAs(
    linkId: string,
    registration: Registration,
    options: RegisterOptions,
  ): Promise<CheckResult | null> {
    const { tracker, store } = this.deps;
    const existing = await store.getLink(linkId);
    if (existing !== null && options.onlyIfUnknown) return null;
    let observed: LinkObservation;
    try {
      observed = await tracker.observe(linkId);
    } catch (error) {
      if (error instanceof UpstreamUnavailableError)
        await this.keepWatching(linkId, registration, existing, error, options.trigger === 'discovered');
      throw error;
    }
    // Created only by the call whose write made the item: of racing registrations, one answers 201.
    return tracker.record(observed, existing, {
      trigger: options.trigger,
      now: tracker.clock.now(),
      registration,
    });
  }

  /** A registration while InstantPay is unavailable: stored and watched with backoff, never lost. */
  private async keepWatching(
    linkId: string,
    registration: Registration,
    existing: LinkState | null,
    error: UpstreamUnavailableError,
    discovered: boolean,
  ): Promise<void> {
    const { tracker, store } = this.deps;
    let current = existing;
    for (let attempt = 1; attempt <= tracker.maxWriteAttempts; attempt++) {
      const now = tracker.clock.now();
      const created = { ...newLinkState(linkId, now), ...(discovered ? { discovered: true as const } : {}) };
      const base = withRegistration(current ?? created, registration);
      const next =
        current === null
          ? tracker.afterFailedCheck(base, now, failedCheckOf(error))
          : tracker.rewatched(base, now);
      const saved = await store.saveState(current?.version ?? null, next);
      if (saved.ok) return;
      current = saved.current;
      if (saved.contended) await tracker.pause(attempt);
    }
    throw new ConcurrentUpdateError(linkId);
  }
}
