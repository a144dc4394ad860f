import { DEFAULTS } from '#shared/config/defaults.ts';
import { parseEnv, positiveInt } from '#shared/config/runtime-config.ts';
import * as z from '#shared/zod.ts';

/** One subscriber as the delivery function sees it (`WEBHOOK_SUBSCRIBERS`, JSON). */
const DeliveryTargetSchema = z.strictObject({
  name: z.string().check(z.minLength(1)),
  url: z.url(),
  secretName: z.string().check(z.minLength(1)),
  deadLetterQueueUrl: z.url(),
});
export type DeliveryTarget = z.infer<typeof DeliveryTargetSchema>;

/** A declared subscriber as the delivery function is told of it: with its dead-letter queue's URL. */
export function deliveryTarget(
  subscriber: Pick<DeliveryTarget, 'name' | 'url' | 'secretName'>,
  deadLetterQueueUrl: string,
): DeliveryTarget {
  return {
    name: subscriber.name,
    url: subscriber.url,
    secretName: subscriber.secretName,
    deadLetterQueueUrl,
  };
}

const DeliveryEnvSchema = z.object({
  STAGE: z.string().check(z.minLength(1)),
  TABLE_NAME: z.string().check(z.minLength(1)),
  WEBHOOK_SUBSCRIBERS: z.pipe(
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
  ),
  SECRET_MAX_AGE_SECONDS: positiveInt(DEFAULTS.secretMaxAgeSeconds),
});

export interface DeliveryConfig {
  stage: string;
  tableName: string;
  targets: DeliveryTarget[];
  secretMaxAgeSeconds: number;
}

export function loadDeliveryConfig(env: Record<string, string | undefined> = process.env): DeliveryConfig {
  const e = parseEnv(DeliveryEnvSchema, env);
  return {
    stage: e.STAGE,
    tableName: e.TABLE_NAME,
    targets: e.WEBHOOK_SUBSCRIBERS,
    secretMaxAgeSeconds: e.SECRET_MAX_AGE_SECONDS,
  };
}
