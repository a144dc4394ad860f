import { DEFAULTS } from '#shared/config/defaults.ts';
import { type Env, parseEnv, positiveInt } from '#shared/config/runtime-config.ts';
import * as z from '#shared/zod.ts';

const AwsCallEnvSchema = z.object({ AWS_CALL_TIMEOUT_MS: positiveInt(DEFAULTS.awsCallTimeoutMs) });

/**
 * Settings every AWS SDK client of the tracker shares: calls fail within their timeouts instead of
 * hanging a Lambda until it is killed (the SDK sets none by default), and keep-alive connections.
 * `requestTimeout` alone only logs a warning once it has passed (the SDK's node handler since
 * `@smithy/node-http-handler` 4.x) and the call goes on waiting: `throwOnRequestTimeout` makes it
 * fail with a `TimeoutError`, which the SDK retries like a network error. The SDK's own retries
 * (3 attempts, with backoff) stay on for throttling and network errors, so a call that keeps hanging
 * fails after about 15 s, within the API function's 29 s. A scheduled run stops taking links 15 s
 * before its end; a write hanging that long may outlast it, and its link stays due for the next run.
 *
 * `AWS_CALL_TIMEOUT_MS` (default 5000) is one attempt's timeout. The stacks leave it at its default;
 * the integration tests raise it for the emulator, which serves one request at a time, so a burst of
 * fifty racing calls on a loaded machine can keep a request waiting for seconds that AWS answers in
 * milliseconds (`test/integration/runtime/aws-client-timeout.test.ts` proves the default).
 */
export function awsClientConfig(env: Env = process.env) {
  const { AWS_CALL_TIMEOUT_MS } = parseEnv(AwsCallEnvSchema, env);
  return {
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: 3_000,
      requestTimeout: AWS_CALL_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  } as const;
}

/** {@link awsClientConfig} of this process's environment, read once when the module loads (a cold start). */
export const AWS_CLIENT_CONFIG = awsClientConfig();
