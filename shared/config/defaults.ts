/**
 * The defaults of the functions' settings, defined once: the stage configs start from them, the
 * environment parsers fall back to them, and the core's own options default to them.
 */
export const DEFAULTS = {
  /** `UPSTREAM_TIMEOUT_MS`: one InstantPay call. */
  upstreamTimeoutMs: 5_000,
  /** `AWS_CALL_TIMEOUT_MS`: one attempt of an AWS SDK call, from the request sent to its answer. */
  awsCallTimeoutMs: 5_000,
  /** `SECRET_MAX_AGE_SECONDS`: how long a container keeps a secret before reading it again. */
  secretMaxAgeSeconds: 300,
  /** `MASK_PERSONAL_DATA`: on unless a stage opts out. */
  maskPersonalData: true,
  /** `SCHEDULE_SCALE`: the adaptive schedule at real speed (the local cloud compresses it). */
  scheduleScale: 1,
  /** `RECHECK_CONCURRENCY`: links one run checks at once. */
  recheckConcurrency: 16,
  /** `UPSTREAM_MAX_RPS`: InstantPay calls per second for the whole stage. */
  upstreamMaxRps: 20,
  /** `RECHECK_PARALLEL_RUNS`: shard groups, one schedule each. */
  recheckParallelRuns: 1,
  /** `RECHECK_STOP_BEFORE_MS`: a run takes no new link when less than this is left of it. */
  recheckStopBeforeMs: 15_000,
  /** A shard's lease outlives the run that holds it by this (the clocks of two runs may differ a little). */
  recheckLeaseMarginMs: 5_000,
  /** `DISCOVERY_STATUSES`: the InstantPay statuses discovery lists (a link in neither is not worth watching). */
  discoveryStatuses: ['ISSUED', 'PROCESSING'],
  /** The stage config's `discovery.everyMinutes`: one discovery run this often. */
  discoveryEveryMinutes: 5,
  /** `DISCOVERY_RECORDS_PER_PAGE`: List's page size (InstantPay documents no maximum; the sample asks 10). */
  discoveryRecordsPerPage: 100,
  /** `DISCOVERY_CONCURRENCY`: registrations of one page at once. */
  discoveryConcurrency: 8,
  /** `DISCOVERY_STOP_BEFORE_MS`: a run reads no new page when less than this is left of it. */
  discoveryStopBeforeMs: 15_000,
} as const;
