import { randomBytes } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type JsonSecret, jsonSecret } from '#shared/credentials/json-secret.ts';
import * as z from '#shared/zod.ts';

const WHSEC = z
  .string()
  .check(
    z.regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be "whsec_" followed by base64 of at least 24 bytes'),
  );

/** A subscriber's signing secret: `{current, previous?, previousValidUntil?}` (rotation keeps both). */
export const WebhookSecretSchema = z
  .strictObject({
    current: WHSEC,
    previous: z.optional(WHSEC),
    previousValidUntil: z.optional(z.iso.datetime({ offset: true })),
  })
  .check(
    z.refine((secret) => secret.previous === undefined || secret.previousValidUntil !== undefined, {
      message: 'previousValidUntil is required with previous',
      path: ['previousValidUntil'],
    }),
  );
export type WebhookSecret = z.infer<typeof WebhookSecretSchema>;

export function webhookSecret(options: {
  secretName: string;
  maxAgeSeconds?: number;
  client?: SecretsManagerClient;
}): JsonSecret<WebhookSecret> {
  return jsonSecret({
    ...options,
    schema: WebhookSecretSchema,
    placeholderHint: 'run `npm run webhook-secret -- --subscriber NAME --rotate` to generate one.',
  });
}

/** The secrets that sign now: the current one, and the previous one while it is still valid. */
export function activeSecrets(secret: WebhookSecret, now: number): string[] {
  const active = [secret.current];
  if (secret.previous && secret.previousValidUntil && Date.parse(secret.previousValidUntil) > now) {
    active.push(secret.previous);
  }
  return active;
}

/** A fresh `whsec_` secret: 32 random bytes, base64. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** A rotation: a new current secret; the old one keeps signing (as previous) for `overlapMs`. */
export function rotate(
  secret: WebhookSecret | undefined,
  now: number,
  overlapMs = 24 * 3600 * 1000,
): WebhookSecret {
  const current = generateWebhookSecret();
  if (!secret) return { current };
  return { current, previous: secret.current, previousValidUntil: new Date(now + overlapMs).toISOString() };
}
