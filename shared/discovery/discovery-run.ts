import { type Clock, systemClock } from '#shared/clock.ts';
import { InstantPayError, UpstreamUnavailableError } from '#shared/instantpay/errors.ts';
import type { InstantPayListClient, ListedLink } from '#shared/instantpay/list-client.ts';
import type { Log } from '#shared/observability/log.ts';
import type { LinkRegistrations } from '#shared/tracker/link-registrations.ts';
import type { Registration } from '#shared/tracker/link-tracker.ts';
import type { DiscoveryPosition, DiscoveryStore } from './discovery-store.ts';

export interface DiscoveryDeps {
  registrations: Pick<LinkRegistrations, 'registerDiscovered'>;
  upstream: InstantPayListClient;
  store: Pick<DiscoveryStore, 'readCursor' | 'moveCursor' | 'knownLinkIds'>;
  log: Log;
  clock?: Clock;
}

export interface DiscoveryOptions {
  /** The statuses walked, in this order, one List walk each. */
  statuses: readonly string[];
  recordsPerPage: number;
  /** Registrations of one page at once. */
  concurrency: number;
  /** Every upstream call (each List page, each registration's Track) takes a token first. */
  rateLimit: { take(): Promise<void> };
  remainingTimeMs: () => number;
  /** No new page is read when less than this is left; a page's registrations stop at half of it. */
  stopBeforeMs: number;
}

export type DiscoveryStop =
  /** Every configured status walked to its last page: the next run starts a new pass. */
  | 'pass-complete'
  | 'time'
  /** InstantPay failed a List call or a registration: the page is read again next run. */
  | 'upstream-error'
  /** Another run moved the cursor first: it owns the walk. */
  | 'cursor-moved';

export interface DiscoverySummary {
  pagesRead: number;
  linksListed: number;
  linksDiscovered: number;
  /** Listed links the table already held (registered, discovered before, final or unwatched). */
  alreadyKnown: number;
  /** Listed records without a usable link id. */
  unusable: number;
  /** Listed, but Track answered "not found": not stored. */
  notFound: number;
  upstreamErrors: number;
  stoppedBy: DiscoveryStop;
  /** Where the next run starts. */
  resumeAt: DiscoveryPosition;
  passes: number;
}

class PageIncomplete extends Error {}

/**
 * One discovery run: resumes the walk where the cursor says, reads List pages for the configured
 * statuses, registers every listed link the table does not hold (as `POST /links` would, first
 * changes `trigger: "discovered"`), and moves the cursor past a page only once every link on it is
 * handled. A page is never skipped; one may be read twice (a run stopped inside it), which costs
 * nothing but the read: registration is idempotent. A page shorter than asked is a status's last
 * (`meta` is never relied on). Pages can shift while links change status between runs: a link that
 * moved to an earlier page is found on the next pass.
 */
export async function runDiscovery(
  deps: DiscoveryDeps,
  options: DiscoveryOptions,
): Promise<DiscoverySummary> {
  const clock = deps.clock ?? systemClock;
  const { statuses } = options;
  if (statuses.length === 0) throw new RangeError('discovery needs at least one status');
  const cursor = await deps.store.readCursor();
  let version = cursor?.version ?? null;
  let passes = cursor?.passes ?? 0;
  // A cursor on a status no longer configured starts a new pass.
  let position: DiscoveryPosition =
    cursor && statuses.includes(cursor.status)
      ? { status: cursor.status, pageNumber: cursor.pageNumber }
      : { status: statuses[0]!, pageNumber: 1 };
  const summary: Omit<DiscoverySummary, 'stoppedBy' | 'resumeAt' | 'passes'> = {
    pagesRead: 0,
    linksListed: 0,
    linksDiscovered: 0,
    alreadyKnown: 0,
    unusable: 0,
    notFound: 0,
    upstreamErrors: 0,
  };
  const done = (stoppedBy: DiscoveryStop): DiscoverySummary => ({
    ...summary,
    stoppedBy,
    resumeAt: position,
    passes,
  });

  for (;;) {
    if (options.remainingTimeMs() < options.stopBeforeMs) return done('time');
    await options.rateLimit.take();
    let page: Awaited<ReturnType<InstantPayListClient['listLinks']>>;
    try {
      page = await deps.upstream.listLinks({
        statuses: [position.status],
        pageNumber: position.pageNumber,
        recordsPerPage: options.recordsPerPage,
      });
    } catch (error) {
      if (!(error instanceof InstantPayError)) throw error;
      summary.upstreamErrors++;
      deps.log.warn('discovery: InstantPay failed a List call; the page is read again next run', {
        ...position,
        error: error.name,
        statuscode: error.statuscode,
      });
      return done('upstream-error');
    }
    summary.pagesRead++;
    summary.linksListed += page.links.length;
    summary.unusable += page.unusable;

    try {
      await registerPage(deps, options, page.links, summary);
    } catch (error) {
      if (!(error instanceof PageIncomplete)) throw error;
      return done(summary.upstreamErrors > 0 ? 'upstream-error' : 'time');
    }

    const last = page.received < options.recordsPerPage;
    const statusIndex = statuses.indexOf(position.status);
    let next: DiscoveryPosition;
    let passComplete = false;
    if (!last) next = { status: position.status, pageNumber: position.pageNumber + 1 };
    else if (statusIndex + 1 < statuses.length) next = { status: statuses[statusIndex + 1]!, pageNumber: 1 };
    else {
      next = { status: statuses[0]!, pageNumber: 1 };
      passComplete = true;
    }
    const moved = await deps.store.moveCursor(
      version,
      { ...next, passes: passes + (passComplete ? 1 : 0) },
      clock.now(),
    );
    if (moved === null) {
      deps.log.warn('discovery: another run moved the cursor first; this one stops', { ...position });
      return done('cursor-moved');
    }
    version = moved.version;
    passes = moved.passes;
    position = next;
    if (passComplete) return done('pass-complete');
  }
}

/**
 * Registers the page's links the table does not hold. Throws `PageIncomplete` when the page must be
 * read again: time ran short, or InstantPay failed in a way that is not about the link itself.
 */
async function registerPage(
  deps: DiscoveryDeps,
  options: DiscoveryOptions,
  links: readonly ListedLink[],
  summary: Omit<DiscoverySummary, 'stoppedBy' | 'resumeAt' | 'passes'>,
): Promise<void> {
  const known = await deps.store.knownLinkIds(links.map((link) => link.linkId));
  const seen = new Set<string>();
  const unknown: ListedLink[] = [];
  for (const link of links) {
    if (known.has(link.linkId)) summary.alreadyKnown++;
    else if (!seen.has(link.linkId)) unknown.push(link);
    seen.add(link.linkId);
  }
  let incomplete = false;
  let next = 0;
  const worker = async () => {
    while (!incomplete && next < unknown.length) {
      if (options.remainingTimeMs() < options.stopBeforeMs / 2) {
        incomplete = true;
        return;
      }
      const link = unknown[next++]!;
      await options.rateLimit.take();
      try {
        const result = await deps.registrations.registerDiscovered(link.linkId, registrationOf(link));
        if (result?.created) summary.linksDiscovered++;
        else summary.alreadyKnown++;
      } catch (error) {
        if (!(error instanceof InstantPayError)) throw error;
        if (error.kind === 'link-not-found') {
          // Listed but unknown to Track: nothing to watch (InstantPay's two calls disagree for now).
          summary.notFound++;
          continue;
        }
        summary.upstreamErrors++;
        // Unavailable: the tracker stored the link and watches it with backoff. Any other failure
        // (credentials, integration) is not the link's: the page is read again next run.
        if (error instanceof UpstreamUnavailableError) {
          summary.linksDiscovered++;
          continue;
        }
        deps.log.warn('discovery: InstantPay failed a registration; the page is read again next run', {
          linkId: link.linkId,
          error: error.name,
          statuscode: error.statuscode,
        });
        incomplete = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, unknown.length) }, worker));
  if (incomplete) throw new PageIncomplete();
}

/** What `POST /links` would be given: InstantPay's `referenceNo` as the reference, unless it is the default `NA`. */
export function registrationOf(link: ListedLink): Registration {
  const reference = typeof link.referenceNo === 'string' ? link.referenceNo.trim() : '';
  if (reference === '' || reference === 'NA' || reference.length > 128) return {};
  return { reference };
}
