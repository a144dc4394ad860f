import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';
import { DEFAULTS } from '#shared/config/defaults.ts';
import * as z from '#shared/zod.ts';
import { MalformedSecretError, SecretNotConfiguredError, SecretUnavailableError } from './secret-errors.ts';

/** Module-level default: one client per container, reused by every provider. */
let defaultClient: SecretsManagerClient | undefined;
function sharedClient(): SecretsManagerClient {
  defaultClient ??= new SecretsManagerClient(AWS_CLIENT_CONFIG);
  return defaultClient;
}

export interface JsonSecretOptions<T> {
  secretName: string;
  schema: z.core.$ZodType<T>;
  /** Cache lifetime per container. */
  maxAgeSeconds?: number;
  client?: SecretsManagerClient;
  /** Told how to fix a placeholder secret, e.g. which fields to set. */
  placeholderHint: string;
}

export interface JsonSecret<T> {
  /** The parsed secret, from the cache while it is fresh; `forceFetch` reads Secrets Manager now. */
  get(options?: { forceFetch?: boolean }): Promise<T>;
}

/**
 * A JSON secret read through Powertools' `SecretsProvider` (cached per container with a max age,
 * with `forceFetch` to bypass the cache on demand) and validated with zod. Concurrent readers
 * share one fetch. Errors name the secret and the faulty fields, never a value.
 */
export function jsonSecret<T>(options: JsonSecretOptions<T>): JsonSecret<T> {
  const provider = new SecretsProvider({ awsSdkV3Client: options.client ?? sharedClient() });
  const maxAge = options.maxAgeSeconds ?? DEFAULTS.secretMaxAgeSeconds;
  let parsedFrom: string | undefined;
  let parsed: T | undefined;
  let inFlight: Promise<T> | undefined;

  async function read(forceFetch: boolean): Promise<T> {
    let raw: unknown;
    try {
      raw = await provider.get(options.secretName, { maxAge, forceFetch });
    } catch (error) {
      throw new SecretUnavailableError(options.secretName, { cause: error });
    }
    if (typeof raw !== 'string')
      throw new MalformedSecretError(options.secretName, ['it is not a JSON string']);
    if (raw === parsedFrom && parsed !== undefined) return parsed;
    const value = parseSecret(raw, options);
    parsedFrom = raw;
    parsed = value;
    return value;
  }

  return {
    get({ forceFetch = false } = {}) {
      // A forced fetch must not be answered by an older fetch still in flight.
      if (inFlight && !forceFetch) return inFlight;
      const current = read(forceFetch).finally(() => {
        if (inFlight === current) inFlight = undefined;
      });
      inFlight = current;
      return current;
    },
  };
}

function parseSecret<T>(raw: string, options: JsonSecretOptions<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // The parser's own message quotes the text: never surface it.
    throw new MalformedSecretError(options.secretName, ['it is not valid JSON']);
  }
  if (json !== null && typeof json === 'object' && (json as { placeholder?: unknown }).placeholder === true) {
    throw new SecretNotConfiguredError(options.secretName, options.placeholderHint);
  }
  const result = z.safeParse(options.schema, json);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const field = issue.path.join('.') || '(root)';
      if (issue.code === 'invalid_type' && issue.input === undefined) return `missing field ${field}`;
      return `field ${field} is invalid (${issue.code})`;
    });
    throw new MalformedSecretError(options.secretName, problems);
  }
  return result.data;
}
