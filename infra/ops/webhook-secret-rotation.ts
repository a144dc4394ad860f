import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { rotate, type WebhookSecret, WebhookSecretSchema } from '#shared/webhooks/webhook-secret.ts';

/**
 * Starts a rotation: a new `current` secret; the old one stays as `previous` (still signing) for
 * 24 hours, so receivers can switch at their pace. A placeholder or empty secret gets its first one.
 * Returns the new secret so the operator can hand it to the subscriber; never logs it.
 */
export async function rotateWebhookSecret(
  secrets: SecretsManagerClient,
  secretName: string,
  now = Date.now(),
): Promise<{ current: string; previousValidUntil?: string }> {
  let existing: WebhookSecret | undefined;
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretName }));
  const parsed = WebhookSecretSchema.safeParse(safeJson(SecretString));
  if (parsed.success) existing = parsed.data;
  const next = rotate(existing, now);
  await secrets.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: JSON.stringify(next) }));
  return {
    current: next.current,
    ...(next.previousValidUntil ? { previousValidUntil: next.previousValidUntil } : {}),
  };
}

function safeJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
