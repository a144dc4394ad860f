/**
 * Settings every AWS SDK client of the tracker shares: calls fail within their timeouts instead of
 * hanging a Lambda until it is killed (the SDK sets none by default), and keep-alive connections.
 * `requestTimeout` alone only logs a warning once it has passed (the SDK's node handler since
 * `@smithy/node-http-handler` 4.x) and the call goes on waiting: `throwOnRequestTimeout` makes it
 * fail with a `TimeoutError`, which the SDK retries like a network error. The SDK's own retries
 * (3 attempts, with backoff) stay on for throttling and network errors, so a call that keeps hanging
 * fails after about 15 s, within the API's 29 s and the schedule's stop margin.
 */
export const AWS_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
} as const;
