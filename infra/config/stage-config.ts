import * as z from 'zod';
import { DEFAULTS } from '#shared/config/defaults.ts';
import { DOCUMENTED_STATUSES } from '#shared/link/link-status.ts';
import { instantPaySecretName, webhookSecretName } from '#shared/resource-names.ts';
import { MAX_STAGE_AND_SUBSCRIBER_LENGTH, subscriberNameProblems } from '#shared/webhooks/routing.ts';
import { SubscriberSchema, subscriberUrlProblems } from '#shared/webhooks/subscriber.ts';

/** Log retention values CloudWatch accepts (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * Everything that differs between stages, validated at synth time (and by the local cloud for the
 * `local` stage) with errors that name the stage and the field.
 */
export const StageConfigSchema = z
  .strictObject({
    stage: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/),
    /** Secrets Manager name of the InstantPay credentials. */
    instantPaySecretName: z.string().min(1),
    /** Used when the secret has no `baseUrl`. */
    instantPayBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** The scheduler's rate: one recheck run per shard group every this many minutes. */
    scheduleRateMinutes: z.number().int().min(1).max(60),
    /** `RECHECK_CONCURRENCY`. */
    recheckConcurrency: z.number().int().min(1).max(256),
    /** `UPSTREAM_MAX_RPS`, for the whole stage (split across parallel runs). */
    upstreamMaxRps: z.number().positive().max(10_000),
    /** `RECHECK_PARALLEL_RUNS`: shard groups, one schedule each; divides the 16 due shards evenly. */
    recheckParallelRuns: z.union([1, 2, 4, 8, 16].map((runs) => z.literal(runs))),
    /** Mask account numbers, phones and e-mails in events and logs (on unless a stage opts out). */
    maskPersonalData: z.boolean(),
    subscribers: z.array(SubscriberSchema),
    logRetentionDays: z.union(LOG_RETENTION_DAYS.map((days) => z.literal(days))),
    /** Alarm notifications go to this address (an SNS e-mail subscription), when set. */
    alarmEmail: z.email().optional(),
    /** `retain` keeps the table, secrets and queues when the stack is deleted. */
    removalPolicy: z.enum(['retain', 'destroy']),
    /** HTTP API stage throttling. */
    apiThrottle: z.strictObject({
      rateLimit: z.number().positive(),
      burstLimit: z.number().int().positive(),
    }),
    /** How long the bus archive keeps events for replay. */
    archiveRetentionDays: z.number().int().min(1).max(3650),
    /**
     * Concurrent deliverers per subscriber queue (the SQS event source's MaximumConcurrency, 2 to
     * 1000), so a redrive of dead letters cannot take the account's concurrency from the API.
     */
    webhookMaxConcurrency: z.number().int().min(2).max(1000),
    /**
     * Discovery: a scheduled run that lists the merchant's links through InstantPay's List call and
     * starts watching each one nobody registered. The stack adds its schedule, function, role, log
     * group, graphs and alarms only when `enabled`.
     */
    discovery: z.strictObject({
      enabled: z.boolean(),
      /** The statuses listed, in walk order (default `ISSUED`, `PROCESSING`). */
      statuses: z.array(z.enum(DOCUMENTED_STATUSES)).min(1).optional(),
      /** One run every this many minutes (default 5). */
      everyMinutes: z.number().int().min(1).max(1440).optional(),
    }),
  })
  .superRefine((config, context) => {
    const names = new Set<string>();
    const secrets = new Map<string, string>();
    config.subscribers.forEach((subscriber, index) => {
      if (names.has(subscriber.name)) {
        context.addIssue({ code: 'custom', path: ['subscribers', index, 'name'], message: 'is used twice' });
      }
      names.add(subscriber.name);
      // One Secrets Manager name is one resource: a second one with it fails the deploy.
      const secretOwner = secrets.get(subscriber.secretName);
      if (subscriber.secretName === config.instantPaySecretName) {
        context.addIssue({
          code: 'custom',
          path: ['subscribers', index, 'secretName'],
          message: 'is the InstantPay secret (instantPaySecretName): give each subscriber its own',
        });
      } else if (secretOwner !== undefined && secretOwner !== subscriber.name) {
        context.addIssue({
          code: 'custom',
          path: ['subscribers', index, 'secretName'],
          message: `is also the secret of subscriber "${secretOwner}": give each subscriber its own`,
        });
      }
      secrets.set(subscriber.secretName, secrets.get(subscriber.secretName) ?? subscriber.name);
      if (config.stage.length + subscriber.name.length > MAX_STAGE_AND_SUBSCRIBER_LENGTH) {
        context.addIssue({
          code: 'custom',
          path: ['subscribers', index, 'name'],
          message: `is too long for stage "${config.stage}": stage and subscriber names together at most ${MAX_STAGE_AND_SUBSCRIBER_LENGTH} characters (AWS name limits)`,
        });
      }
      for (const problem of subscriberUrlProblems(subscriber.url, {
        allowLoopback: config.stage === 'local',
      })) {
        context.addIssue({ code: 'custom', path: ['subscribers', index, 'url'], message: problem });
      }
    });
    const listed = config.discovery.statuses ?? [];
    listed.forEach((status, index) => {
      if (listed.indexOf(status) !== index)
        context.addIssue({
          code: 'custom',
          path: ['discovery', 'statuses', index],
          message: `lists ${status} twice`,
        });
    });
    const distinct = config.subscribers.map((subscriber) => subscriber.name);
    for (const { index, message } of subscriberNameProblems(config.stage, distinct)) {
      context.addIssue({ code: 'custom', path: ['subscribers', index, 'name'], message });
    }
  });
export type StageConfig = z.infer<typeof StageConfigSchema>;

const defaults = {
  scheduleRateMinutes: 1,
  recheckConcurrency: DEFAULTS.recheckConcurrency,
  upstreamMaxRps: DEFAULTS.upstreamMaxRps,
  recheckParallelRuns: DEFAULTS.recheckParallelRuns,
  maskPersonalData: DEFAULTS.maskPersonalData,
  subscribers: [],
  apiThrottle: { rateLimit: 50, burstLimit: 100 },
  webhookMaxConcurrency: 2,
  // Off unless a stage opts in (the local cloud runs it on its own interval, DISCOVERY_INTERVAL_SECONDS).
  discovery: { enabled: false },
} satisfies Partial<StageConfig>;

/** The stages. Deployed ones are `dev`, `staging` and `prod`; `local` is what `npm start` runs. */
export const STAGES: Record<string, z.input<typeof StageConfigSchema>> = {
  local: {
    ...defaults,
    stage: 'local',
    instantPaySecretName: instantPaySecretName('local'),
    logRetentionDays: 1,
    removalPolicy: 'destroy',
    archiveRetentionDays: 1,
  },
  dev: {
    ...defaults,
    stage: 'dev',
    instantPaySecretName: instantPaySecretName('dev'),
    discovery: { enabled: true },
    logRetentionDays: 14,
    removalPolicy: 'destroy',
    archiveRetentionDays: 7,
  },
  staging: {
    ...defaults,
    stage: 'staging',
    instantPaySecretName: instantPaySecretName('staging'),
    logRetentionDays: 30,
    removalPolicy: 'destroy',
    archiveRetentionDays: 14,
    subscribers: [
      {
        name: 'merchant-sandbox',
        url: 'https://webhooks.example.com/payout-links',
        secretName: webhookSecretName('staging', 'merchant-sandbox'),
      },
    ],
  },
  prod: {
    ...defaults,
    stage: 'prod',
    instantPaySecretName: instantPaySecretName('prod'),
    recheckConcurrency: 32,
    upstreamMaxRps: 50,
    logRetentionDays: 90,
    removalPolicy: 'retain',
    archiveRetentionDays: 90,
    apiThrottle: { rateLimit: 200, burstLimit: 400 },
    webhookMaxConcurrency: 10,
    subscribers: [
      {
        name: 'merchant-ledger',
        url: 'https://hooks.example.com/instantpay/payout-links',
        statuses: ['CLAIMED', 'CANCELLED', 'EXPIRED'],
        secretName: webhookSecretName('prod', 'merchant-ledger'),
      },
    ],
  },
};

export class StageConfigError extends Error {
  override readonly name = 'StageConfigError';
}

/** The validated config of one stage, or an error naming the stage and every faulty field. */
export function stageConfig(stage: string, stages = STAGES): StageConfig {
  const raw = stages[stage];
  if (!raw) {
    throw new StageConfigError(`Unknown stage "${stage}": use one of ${Object.keys(stages).join(', ')}.`);
  }
  return parseStageConfig(raw);
}

export function parseStageConfig(raw: unknown): StageConfig {
  const result = StageConfigSchema.safeParse(raw);
  if (result.success) return result.data;
  const stage = (raw as { stage?: unknown } | null)?.stage;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(config)'} ${issue.message}`,
  );
  throw new StageConfigError(`Invalid config for stage "${String(stage)}": ${problems.join('; ')}`);
}
