import * as z from 'zod';
import { parseEnv } from '#shared/config/runtime-config.ts';

/** One subscriber as the delivery function sees it (`WEBHOOK_SUBSCRIBERS`, JSON). */
export const DeliveryTargetSchema = z.strictObject({
  name: z.string().min(1),
  url: z.url(),
  secretName: z.string().min(1),
  deadLetterQueueUrl: z.url(),
});
export type DeliveryTarget = z.infer<typeof DeliveryTargetSchema>;

export const DeliveryEnvSchema = z.object({
  STAGE: z.string().min(1),
  TABLE_NAME: z.string().min(1),
  WEBHOOK_SUBSCRIBERS: z
    .string()
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be a JSON array' });
        return z.NEVER;
      }
    })
    .pipe(z.array(DeliveryTargetSchema)),
  SECRET_MAX_AGE_SECONDS: z.coerce.number().int().positive().default(300),
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
