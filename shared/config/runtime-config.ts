import { DEFAULT_SCHEDULE, type ScheduleConfig } from '#shared/link/recheck-schedule.ts';
import { busName } from '#shared/resource-names.ts';
import * as z from '#shared/zod.ts';
import { DEFAULTS } from './defaults.ts';

/** A yes/no variable: `true`/`false`, `1`/`0` or `yes`/`no`. */
export const FlagSchema = z.pipe(
  z.enum(['true', 'false', '1', '0', 'yes', 'no']),
  z.transform((value) => value === 'true' || value === '1' || value === 'yes'),
);

/** A positive number, written as a decimal or a fraction (`1/60`). */
export const RatioSchema = z.pipe(
  z.pipe(
    z.string().check(z.regex(/^\d+(\.\d+)?(\/\d+(\.\d+)?)?$/, 'a positive number such as 1, 0.5 or 1/60')),
    z.transform((text) => {
      const [top, bottom] = text.split('/');
      return Number(top) / (bottom === undefined ? 1 : Number(bottom));
    }),
  ),
  // zod's number refuses NaN (0/0) and the infinities (1/0).
  z.number('a positive number').check(z.positive('a positive number')),
);

export const positiveInt = (fallback: number) =>
  z._default(z.coerce.number().check(z.int(), z.positive()), fallback);

/** The environment every function reads, parsed once at cold start. */
const RuntimeEnvSchema = z.object({
  STAGE: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,19}$/, 'a lower-case stage name such as dev or prod')),
  TABLE_NAME: z.string().check(z.minLength(1)),
  EVENT_BUS_NAME: z.optional(z.string().check(z.minLength(1))),
  INSTANTPAY_SECRET_NAME: z.string().check(z.minLength(1)),
  /** Used when the secret has no `baseUrl`. */
  INSTANTPAY_BASE_URL: z.optional(z.url({ protocol: /^https?$/ })),
  UPSTREAM_TIMEOUT_MS: positiveInt(DEFAULTS.upstreamTimeoutMs),
  SECRET_MAX_AGE_SECONDS: positiveInt(DEFAULTS.secretMaxAgeSeconds),
  MASK_PERSONAL_DATA: z._default(FlagSchema, DEFAULTS.maskPersonalData),
  SCHEDULE_SCALE: z._default(RatioSchema, DEFAULTS.scheduleScale),
});

export interface RuntimeConfig {
  stage: string;
  tableName: string;
  eventBusName: string;
  instantPaySecretName: string;
  instantPayBaseUrl: string | undefined;
  upstreamTimeoutMs: number;
  secretMaxAgeSeconds: number;
  maskPersonalData: boolean;
  schedule: ScheduleConfig;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A function's environment: `process.env` in Lambda, the one the local cloud builds for it. */
export type Env = Record<string, string | undefined>;

/** Parses the environment or fails fast naming each faulty variable (never its value). */
export function parseEnv<T>(schema: z.core.$ZodType<T>, env: Env): T {
  const parsed = z.safeParse(schema, env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid environment: ${problems.join('; ')}`);
}

export function loadRuntimeConfig(env: Env = process.env): RuntimeConfig {
  const e = parseEnv(RuntimeEnvSchema, env);
  return {
    stage: e.STAGE,
    tableName: e.TABLE_NAME,
    eventBusName: e.EVENT_BUS_NAME ?? busName(e.STAGE),
    instantPaySecretName: e.INSTANTPAY_SECRET_NAME,
    instantPayBaseUrl: e.INSTANTPAY_BASE_URL,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    secretMaxAgeSeconds: e.SECRET_MAX_AGE_SECONDS,
    maskPersonalData: e.MASK_PERSONAL_DATA,
    schedule: { ...DEFAULT_SCHEDULE, scale: e.SCHEDULE_SCALE },
  };
}
