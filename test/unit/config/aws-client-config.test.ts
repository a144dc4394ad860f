import { describe, expect, it } from 'vitest';
import { awsClientConfig } from '#shared/aws/client-config.ts';
import { ConfigError } from '#shared/config/runtime-config.ts';

describe('the AWS clients configuration', () => {
  it('times each attempt out after 5 s by default, as an error, with 3 attempts', () => {
    expect(awsClientConfig({})).toEqual({
      maxAttempts: 3,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
    });
  });

  it('takes the attempt timeout from AWS_CALL_TIMEOUT_MS', () => {
    expect(awsClientConfig({ AWS_CALL_TIMEOUT_MS: '30000' }).requestHandler.requestTimeout).toBe(30_000);
  });

  it.each(['0', '-5', '1.5', 'soon'])('refuses AWS_CALL_TIMEOUT_MS=%s, naming the variable', (value) => {
    const load = () => awsClientConfig({ AWS_CALL_TIMEOUT_MS: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/AWS_CALL_TIMEOUT_MS: /);
  });
});
