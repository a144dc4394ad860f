import { DEFAULTS } from '#shared/config/defaults.ts';
import { type Env, parseEnv, positiveInt, RatioSchema } from '#shared/config/runtime-config.ts';
import { DETAIL_TYPES, type DetailType } from '#shared/link/link-event.ts';
import * as z from '#shared/zod.ts';
import type { Subscriber } from './subscriber.ts';

/**
 * One subscriber as the functions see it (`WEBHOOK_SUBSCRIBERS`, JSON): its declaration (filters
 * included, for a resend) and its own queues, by URL and ARN, so nothing is rebuilt from a name.
 */
const DeliveryTargetSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  url: z.url(),
  secretName: z.string().check(z.minLength(1)),
  statuses: z.optional(z.array(z.string().check(z.minLength(1)))),
  detailTypes: z.optional(z.array(z.enum(DETAIL_TYPES as [DetailType, ...DetailType[]]))),
  queueUrl: z.url(),
  queueArn: z.string().check(z.minLength(1)),
  deadLetterQueueUrl: z.url(),
  deadLetterQueueArn: z.string().check(z.minLength(1)),
});
export type DeliveryTarget = z.infer<typeof DeliveryTargetSchema>;

/** A queue as the stack or the emulator names it. */
export interface QueueRef {
  url: string;
  arn: string;
}

/** A declared subscriber as the functions are told of it: with its queue and dead-letter queue. */
export function deliveryTarget(
  subscriber: Pick<Subscriber, 'name' | 'url' | 'secretName' | 'statuses' | 'detailTypes'>,
  queues: { queue: QueueRef; deadLetterQueue: QueueRef },
): DeliveryTarget {
  return {
    name: subscriber.name,
    url: subscriber.url,
    secretName: subscriber.secretName,
    ...(subscriber.statuses ? { statuses: [...subscriber.statuses] } : {}),
    ...(subscriber.detailTypes ? { detailTypes: [...subscriber.detailTypes] } : {}),
    queueUrl: queues.queue.url,
    queueArn: queues.queue.arn,
    deadLetterQueueUrl: queues.deadLetterQueue.url,
    deadLetterQueueArn: queues.deadLetterQueue.arn,
  };
}

const TargetsSchema = z.pipe(
  z.pipe(
    z.string(),
    z.transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.issues.push({ code: 'custom', message: 'must be a JSON array', input: text });
        return z.NEVER;
      }
    }),
  ),
  z.array(DeliveryTargetSchema),
);

const DeliveryEnvSchema = z.object({
  STAGE: z.string().check(z.minLength(1)),
  TABLE_NAME: z.string().check(z.minLength(1)),
  DELIVERIES_TABLE_NAME: z.string().check(z.minLength(1)),
  WEBHOOK_SUBSCRIBERS: TargetsSchema,
  SECRET_MAX_AGE_SECONDS: positiveInt(DEFAULTS.secretMaxAgeSeconds),
  /** Compresses the retry backoff as it compresses the recheck schedule (the local cloud's 1/60). */
  SCHEDULE_SCALE: z._default(RatioSchema, DEFAULTS.scheduleScale),
});

export interface DeliveryConfig {
  stage: string;
  /** The link table, where each subscriber's disabled flag lives. */
  tableName: string;
  /** The attempt log. */
  deliveriesTableName: string;
  targets: DeliveryTarget[];
  secretMaxAgeSeconds: number;
  backoffScale: number;
}

export function loadDeliveryConfig(env: Env = process.env): DeliveryConfig {
  const e = parseEnv(DeliveryEnvSchema, env);
  return {
    stage: e.STAGE,
    tableName: e.TABLE_NAME,
    deliveriesTableName: e.DELIVERIES_TABLE_NAME,
    targets: e.WEBHOOK_SUBSCRIBERS,
    secretMaxAgeSeconds: e.SECRET_MAX_AGE_SECONDS,
    backoffScale: e.SCHEDULE_SCALE,
  };
}

const AdminEnvSchema = z.object({
  DELIVERIES_TABLE_NAME: z.string().check(z.minLength(1)),
  WEBHOOK_SUBSCRIBERS: TargetsSchema,
});

/** What the API reads to show, resend and enable deliveries (besides the link table of its runtime config). */
export interface DeliveryAdminConfig {
  deliveriesTableName: string;
  targets: DeliveryTarget[];
}

export function loadDeliveryAdminConfig(env: Env = process.env): DeliveryAdminConfig {
  const e = parseEnv(AdminEnvSchema, env);
  return { deliveriesTableName: e.DELIVERIES_TABLE_NAME, targets: e.WEBHOOK_SUBSCRIBERS };
}
