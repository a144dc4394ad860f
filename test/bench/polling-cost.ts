import { isFinal } from '#shared/link/link-status.ts';
import { DEFAULT_SCHEDULE, nextCheckAt, type ScheduleInput } from '#shared/link/recheck-schedule.ts';
import { progress } from './cleanup.ts';
import { atLeast, atMost, type Benchmark, type Figure } from './figures.ts';

/**
 * Polling cost: a pure simulation (no I/O) of a synthetic population of payout links, checked under
 * the adaptive schedule (`nextCheckAt`, `DEFAULT_SCHEDULE`, scale 1) and under fixed 1-minute
 * polling, each from registration until the link is final or one check past its `expiresAt`.
 *
 * The population (seeded, so every run draws the same links), times from the link's creation, at
 * which it is registered and checked once:
 *  - 60 % claimed within the first hour: the claim starts after an exponential time with a mean of
 *    10 minutes (redrawn above 60 minutes);
 *  - 15 % claimed between 1 hour and 1 day, 7 % between 1 and 7 days (log-uniform: a long tail);
 *  - 3 % cancelled by the merchant between 10 minutes and 3 days (log-uniform);
 *  - 15 % never claimed: they expire (`EXPIRED`) at 7 days.
 * Every link is registered with `expiresAt` = 7 days. A claim passes through `PROCESSING` for 5 s to
 * 3 min (log-uniform) in 70 % of cases before `CLAIMED`; the rest go straight to `CLAIMED`.
 * The tracker's `lastChangeAt` is the creation time until it records a change, then the time of the
 * check that recorded it (as `applyObservation` does). No upstream errors.
 *
 * A change is detected by the first check at or after it; its detection delay is that check's time
 * minus the change's time. Delays are reported for changes in the link's first hour.
 */
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const POPULATION = 10_000;
const SEED = 0x5eed_2026;
const EXPIRES_AFTER_MS = 7 * DAY;
const FIXED_EVERY_MS = MINUTE;
/** Any epoch works: the schedule only reads differences. */
const EPOCH = Date.parse('2026-01-05T00:00:00Z');

interface Step {
  /** Milliseconds since creation. */
  at: number;
  status: string;
}

export interface SyntheticLink {
  /** The upstream's life of the link: first step `ISSUED` at 0. */
  steps: Step[];
  expiresAt: number;
}

/** mulberry32: a small, fast, seeded PRNG returning [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function logUniform(random: () => number, from: number, to: number): number {
  return Math.exp(Math.log(from) + random() * (Math.log(to) - Math.log(from)));
}

function claimSteps(random: () => number, claimStart: number): Step[] {
  if (random() < 0.7) {
    const processing = logUniform(random, 5 * SECOND, 3 * MINUTE);
    return [
      { at: claimStart, status: 'PROCESSING' },
      { at: claimStart + processing, status: 'CLAIMED' },
    ];
  }
  return [{ at: claimStart, status: 'CLAIMED' }];
}

export function syntheticPopulation(size: number, random: () => number): SyntheticLink[] {
  const links: SyntheticLink[] = [];
  for (let i = 0; i < size; i++) {
    const steps: Step[] = [{ at: 0, status: 'ISSUED' }];
    const kind = random();
    if (kind < 0.6) {
      let claimStart: number;
      do claimStart = -Math.log(1 - random()) * 10 * MINUTE;
      while (claimStart >= HOUR);
      steps.push(...claimSteps(random, claimStart));
    } else if (kind < 0.75) {
      steps.push(...claimSteps(random, logUniform(random, HOUR, DAY)));
    } else if (kind < 0.82) {
      steps.push(...claimSteps(random, logUniform(random, DAY, EXPIRES_AFTER_MS - HOUR)));
    } else if (kind < 0.85) {
      steps.push({ at: logUniform(random, 10 * MINUTE, 3 * DAY), status: 'CANCELLED' });
    } else {
      steps.push({ at: EXPIRES_AFTER_MS, status: 'EXPIRED' });
    }
    links.push({ steps, expiresAt: EXPIRES_AFTER_MS });
  }
  return links;
}

type Policy = (input: ScheduleInput, now: number, random: () => number) => number | null;

const adaptive: Policy = (input, now, random) => nextCheckAt(input, now, random, DEFAULT_SCHEDULE);

/** Every minute until final, or until one check at or past `expiresAt`. */
const fixedEveryMinute: Policy = (input, now) => {
  if (input.status !== null && isFinal(input.status)) return null;
  if (input.expiresAt !== null && now >= input.expiresAt) return null;
  return now + FIXED_EVERY_MS;
};

export interface PolicyOutcome {
  calls: number;
  /** Sum over links of the time from registration to the last check. */
  watchedMs: number;
  /** Status changes the tracker records, the first observation included. */
  recordedChanges: number;
  /** Detection delays (ms) of the changes in each link's first hour. */
  firstHourDelays: number[];
}

export function simulate(
  links: readonly SyntheticLink[],
  policy: Policy,
  random: () => number,
): PolicyOutcome {
  const outcome: PolicyOutcome = { calls: 0, watchedMs: 0, recordedChanges: 0, firstHourDelays: [] };
  for (const link of links) {
    const { steps } = link;
    let known: string | null = null;
    let lastChangeAt = EPOCH;
    let undetected = 1; // steps[0] (creation) is what the registration check sees
    let t = 0;
    for (;;) {
      outcome.calls++;
      while (undetected < steps.length && (steps[undetected] as Step).at <= t) {
        const change = steps[undetected] as Step;
        if (change.at < HOUR) outcome.firstHourDelays.push(t - change.at);
        undetected++;
      }
      const status = (steps[undetected - 1] as Step).status;
      if (status !== known) {
        outcome.recordedChanges++;
        known = status;
        lastChangeAt = EPOCH + t;
      }
      const next = policy(
        { status, lastChangeAt, consecutiveErrors: 0, expiresAt: EPOCH + link.expiresAt },
        EPOCH + t,
        random,
      );
      if (next === null) break;
      t = next - EPOCH;
    }
    outcome.watchedMs += t;
  }
  return outcome;
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export async function pollingCostFigures(): Promise<Figure[]> {
  const links = syntheticPopulation(POPULATION, seededRandom(SEED));
  progress(`polling cost: simulating ${POPULATION} links under both policies`);
  const smart = simulate(links, adaptive, seededRandom(SEED + 1));
  const fixed = simulate(links, fixedEveryMinute, seededRandom(SEED + 1));

  const perLink = (outcome: PolicyOutcome) => outcome.calls / links.length;
  const perWatchedDay = (outcome: PolicyOutcome) => outcome.calls / (outcome.watchedMs / DAY);
  const seconds = (ms: number) => ms / 1000;
  const population = `${POPULATION} synthetic links`;
  return [
    {
      key: 'pollingCallsRatio',
      value: perLink(fixed) / perLink(smart),
      target: atLeast(5),
      limit: 'calls per link, fixed 1-min polling / adaptive',
      note: population,
    },
    {
      key: 'adaptiveCallsPerLink',
      of: 'pollingCallsRatio',
      value: perLink(smart),
      unit: 'calls',
      limit: 'adaptive schedule, registration to final or expiry',
    },
    {
      key: 'fixedCallsPerLink',
      of: 'pollingCallsRatio',
      value: perLink(fixed),
      unit: 'calls',
      limit: 'fixed 1-minute polling, same links',
    },
    {
      key: 'adaptiveCallsPerWatchedLinkDay',
      of: 'pollingCallsRatio',
      value: perWatchedDay(smart),
      unit: 'calls',
      limit: 'adaptive calls / watched link-days (steady state, for docs/SCALING.md)',
    },
    {
      key: 'adaptiveRecordedChangesPerLink',
      of: 'pollingCallsRatio',
      value: smart.recordedChanges / links.length,
      unit: 'changes',
      limit: 'status changes recorded per link, first observation included',
    },
    {
      key: 'pollingP95DetectionSeconds',
      value: seconds(percentile(smart.firstHourDelays, 95)),
      unit: 's',
      target: atMost(300),
      limit: 'adaptive, changes in the first hour',
      note: `${smart.firstHourDelays.length} changes`,
    },
    {
      key: 'adaptiveP50DetectionSeconds',
      of: 'pollingP95DetectionSeconds',
      value: seconds(percentile(smart.firstHourDelays, 50)),
      unit: 's',
      limit: 'adaptive, changes in the first hour',
    },
    {
      key: 'fixedP50DetectionSeconds',
      of: 'pollingP95DetectionSeconds',
      value: seconds(percentile(fixed.firstHourDelays, 50)),
      unit: 's',
      limit: 'fixed 1-minute polling, same changes',
    },
    {
      key: 'fixedP95DetectionSeconds',
      of: 'pollingP95DetectionSeconds',
      value: seconds(percentile(fixed.firstHourDelays, 95)),
      unit: 's',
      limit: 'fixed 1-minute polling, same changes',
    },
  ];
}

export const pollingCost: Benchmark = {
  name: 'polling cost',
  figures: [
    {
      key: 'pollingCallsRatio',
      target: atLeast(5),
      limit: 'calls per link, fixed 1-min polling / adaptive',
    },
    { key: 'pollingP95DetectionSeconds', target: atMost(300), limit: 'adaptive, changes in the first hour' },
  ],
  run: pollingCostFigures,
};
