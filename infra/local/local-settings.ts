import * as z from 'zod';

/** Every variable `npm start` reads, with its default and meaning: the source of `--help` too. */
export const LOCAL_VARIABLES = [
  ['PORT', '3000', 'port of the tracker API (and the built-in webhook sink at /local/webhooks)'],
  ['SANDBOX_PORT', '8000', 'port of the InstantPay sandbox (not started when INSTANTPAY_BASE_URL is set)'],
  [
    'SANDBOX_CLOCK',
    'system',
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
  ['RECHECK_INTERVAL_SECONDS', '1', 'how often recheck-pending runs'],
  ['SCHEDULE_SCALE', '1/60', 'compresses the adaptive schedule: a deployed minute becomes a second'],
  ['RECHECK_CONCURRENCY', '16', 'links checked at once by a run'],
  ['UPSTREAM_MAX_RPS', '20', 'upstream calls per second'],
  ['MASK_PERSONAL_DATA', 'true', 'mask account numbers, phones and e-mails in events and logs'],
  ['WEBHOOK_URLS', '', 'comma separated URLs that receive signed webhooks, besides the built-in sink'],
  ['WEBHOOK_SECRET', '(generated and printed)', 'the whsec_ secret that signs every local webhook'],
  ['LOG_LEVEL', 'WARN', 'Powertools log level of the functions (DEBUG, INFO, WARN, ERROR)'],
] as const;

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);

export const LocalSettingsSchema = z
  .object({
    PORT: port(3000),
    SANDBOX_PORT: port(8000),
    SANDBOX_CLOCK: z.enum(['system', 'manual']).default('system'),
    INSTANTPAY_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    INSTANTPAY_CLIENT_ID: z.string().min(1).optional(),
    INSTANTPAY_CLIENT_SECRET: z.string().min(1).optional(),
    INSTANTPAY_ENDPOINT_IP: z.string().min(1).optional(),
    AWS_ENDPOINT_URL: z.url().optional(),
    RECHECK_INTERVAL_SECONDS: z.coerce.number().positive().max(3600).default(1),
    SCHEDULE_SCALE: z.string().default('1/60'),
    RECHECK_CONCURRENCY: z.string().default('16'),
    UPSTREAM_MAX_RPS: z.string().default('20'),
    MASK_PERSONAL_DATA: z.string().default('true'),
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
    LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('WARN'),
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
    'sandbox, the API, the scheduled rechecks and webhook delivery). Ctrl-C stops all of it.',
    '',
    'Variables:',
    ...lines,
  ].join('\n');
}
