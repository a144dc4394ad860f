/**
 * Settings every AWS SDK client of the tracker shares: calls fail within their timeouts instead of
 * hanging a Lambda until it is killed (the SDK sets none by default), and keep-alive connections.
 * The SDK's own retries (3 attempts, with backoff) stay on for throttling and network errors.
 */
export const AWS_CLIENT_CONFIG = {
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 },
} as const;
