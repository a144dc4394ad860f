import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from '#shared/zod.ts';
import { type JsonSecret, jsonSecret } from './json-secret.ts';

/** The InstantPay secret of a stage: `{clientId, clientSecret, endpointIp, authCode?: "1", baseUrl?}`. */
const InstantPayCredentialsSchema = z.object({
  clientId: z.string().check(z.minLength(1)),
  clientSecret: z.string().check(z.minLength(1)),
  endpointIp: z.string().check(z.minLength(1)),
  authCode: z._default(z.enum(['1']), '1'),
  baseUrl: z.optional(z.url({ protocol: /^https?$/ })),
});
export type InstantPayCredentials = z.infer<typeof InstantPayCredentialsSchema>;

export type CredentialsSource = JsonSecret<InstantPayCredentials>;

const CREDENTIALS_PLACEHOLDER_HINT =
  'set it to {"clientId": ..., "clientSecret": ..., "endpointIp": ...} (see README, "Set the InstantPay secret").';

export function instantPayCredentials(options: {
  secretName: string;
  maxAgeSeconds?: number;
  client?: SecretsManagerClient;
}): CredentialsSource {
  return jsonSecret({
    ...options,
    schema: InstantPayCredentialsSchema,
    placeholderHint: CREDENTIALS_PLACEHOLDER_HINT,
  });
}
