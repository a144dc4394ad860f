import * as z from 'zod';
import { LOCAL_DEFAULTS } from '#infra/config/local-defaults.ts';
import { StageConfigSchema, stageConfig } from '#infra/config/stage-config.ts';
import { FlagSchema } from '#shared/config/runtime-config.ts';
import { subscriberUrlProblems } from '#shared/webhooks/subscriber.ts';

const LOCAL_STAGE = stageConfig('local');

/** Every variable `npm start` reads, with its default and meaning: the source of `--help` too. */
export const LOCAL_VARIABLES = [
  [
    'PORT',
    `${LOCAL_DEFAULTS.PORT}`,
    'port of the tracker API (and the built-in webhook sink at /local/webhooks)',
  ],
  [
    'SANDBOX_PORT',
    `${LOCAL_DEFAULTS.SANDBOX_PORT}`,
    'port of the InstantPay sandbox (not started when INSTANTPAY_BASE_URL is set)',
  ],
  [
    'SANDBOX_CLOCK',
    LOCAL_DEFAULTS.SANDBOX_CLOCK,
    'manual freezes the sandbox\'s clock until POST /sandbox/clock {"advanceMs": n} moves it (for tests)',
  ],
  ['INSTANTPAY_BASE_URL', '(the sandbox)', 'a real InstantPay base URL instead of the sandbox'],
  [
    'INSTANTPAY_CLIENT_ID',
    '',
    'with INSTANTPAY_BASE_URL: the client id (stored in the local Secrets Manager)',
  ],
  ['INSTANTPAY_CLIENT_SECRET', '', 'with INSTANTPAY_BASE_URL: the client secret (stored, never printed)'],
  ['INSTANTPAY_ENDPOINT_IP', '', 'with INSTANTPAY_BASE_URL: the endpoint IP header value'],
  ['AWS_ENDPOINT_URL', '(a moto server started here)', 'use an AWS API emulator already running there'],
  [
    'RECHECK_INTERVAL_SECONDS',
    `${LOCAL_DEFAULTS.RECHECK_INTERVAL_SECONDS}`,
    'how often recheck-pending runs',
  ],
  [
    'DISCOVERY_INTERVAL_SECONDS',
    `${LOCAL_DEFAULTS.DISCOVERY_INTERVAL_SECONDS}`,
    "how often discover-links lists InstantPay's links and watches the unregistered ones (0 turns it off)",
  ],
  [
    'SCHEDULE_SCALE',
    LOCAL_DEFAULTS.SCHEDULE_SCALE,
    'compresses the adaptive schedule: a deployed minute becomes a second',
  ],
  ['RECHECK_CONCURRENCY', `${LOCAL_STAGE.recheckConcurrency}`, 'links checked at once by a run'],
  ['UPSTREAM_MAX_RPS', `${LOCAL_STAGE.upstreamMaxRps}`, 'upstream calls per second'],
  [
    'MASK_PERSONAL_DATA',
    `${LOCAL_STAGE.maskPersonalData}`,
    'mask account numbers, phones and e-mails in events and logs',
  ],
  ['WEBHOOK_URLS', '', 'comma separated URLs that receive signed webhooks, besides the built-in sink'],
  ['WEBHOOK_SECRET', '(generated and printed)', 'the whsec_ secret that signs every local webhook'],
  ['LOG_LEVEL', LOCAL_DEFAULTS.LOG_LEVEL, 'Powertools log level of the functions (DEBUG, INFO, WARN, ERROR)'],
] as const;

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
/** A number the `local` stage config holds, checked as the stage config checks it. */
const stageNumber = (field: z.ZodType<number, number>) => z.coerce.number().pipe(field).optional();

/**
 * `npm start`'s variables. The overrides of the `local` stage config (rates, masking, subscribers)
 * are checked here, so a bad one names its variable before anything starts.
 */
export const LocalSettingsSchema = z
  .object({
    PORT: port(LOCAL_DEFAULTS.PORT),
    SANDBOX_PORT: port(LOCAL_DEFAULTS.SANDBOX_PORT),
    SANDBOX_CLOCK: z.enum(['system', 'manual']).default(LOCAL_DEFAULTS.SANDBOX_CLOCK),
    INSTANTPAY_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    INSTANTPAY_CLIENT_ID: z.string().min(1).optional(),
    INSTANTPAY_CLIENT_SECRET: z.string().min(1).optional(),
    INSTANTPAY_ENDPOINT_IP: z.string().min(1).optional(),
    AWS_ENDPOINT_URL: z.url().optional(),
    RECHECK_INTERVAL_SECONDS: z.coerce
      .number()
      .positive()
      .max(3600)
      .default(LOCAL_DEFAULTS.RECHECK_INTERVAL_SECONDS),
    DISCOVERY_INTERVAL_SECONDS: z.coerce
      .number()
      .min(0)
      .max(3600)
      .default(LOCAL_DEFAULTS.DISCOVERY_INTERVAL_SECONDS),
    /** Passed to the functions as it is; they parse it (`1/60`). */
    SCHEDULE_SCALE: z.string().default(LOCAL_DEFAULTS.SCHEDULE_SCALE),
    RECHECK_CONCURRENCY: stageNumber(StageConfigSchema.shape.recheckConcurrency),
    UPSTREAM_MAX_RPS: stageNumber(StageConfigSchema.shape.upstreamMaxRps),
    MASK_PERSONAL_DATA: z.optional(FlagSchema),
    WEBHOOK_URLS: z
      .string()
      .default('')
      .transform((text) =>
        text
          .split(',')
          .map((url) => url.trim())
          .filter(Boolean),
      ),
    WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ followed by base64 of at least 24 bytes')
      .optional(),
    LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default(LOCAL_DEFAULTS.LOG_LEVEL),
  })
  .superRefine((settings, context) => {
    if (settings.INSTANTPAY_BASE_URL) {
      for (const key of [
        'INSTANTPAY_CLIENT_ID',
        'INSTANTPAY_CLIENT_SECRET',
        'INSTANTPAY_ENDPOINT_IP',
      ] as const) {
        if (!settings[key])
          context.addIssue({ code: 'custom', path: [key], message: 'is required with INSTANTPAY_BASE_URL' });
      }
    }
    for (const url of settings.WEBHOOK_URLS) {
      const problems = subscriberUrlProblems(url, { allowLoopback: true });
      if (problems.length > 0)
        context.addIssue({
          code: 'custom',
          path: ['WEBHOOK_URLS'],
          message: `${url} ${problems.join(', ')}`,
        });
    }
  });
export type LocalSettings = z.infer<typeof LocalSettingsSchema>;

export function helpText(): string {
  const width = Math.max(...LOCAL_VARIABLES.map(([name]) => name.length));
  const lines = LOCAL_VARIABLES.map(
    ([name, fallback, meaning]) =>
      `  ${name.padEnd(width)}  ${meaning}${fallback ? ` (default: ${fallback})` : ''}`,
  );
  return [
    'npm start: the whole payout link tracker on this machine (a local AWS emulator, the InstantPay',
    'sandbox, the API, the scheduled rechecks, discovery and webhook delivery). Ctrl-C stops all of it.',
    '',
    'Variables:',
    ...lines,
  ].join('\n');
}
