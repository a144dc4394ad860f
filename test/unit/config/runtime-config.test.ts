import { describe, expect, it } from 'vitest';
import { ConfigError, loadRuntimeConfig } from '#shared/config/runtime-config.ts';

// This file imports only what the functions bundle (zod/mini, never classic zod, which would load
// zod's English messages for every schema): the messages below come from `#shared/zod.ts`.
const ENV = { STAGE: 'dev', TABLE_NAME: 't', INSTANTPAY_SECRET_NAME: 's' };

describe('the runtime configuration', () => {
  it('parses the environment with its defaults', () => {
    expect(loadRuntimeConfig({ ...ENV, SCHEDULE_SCALE: '1/60', MASK_PERSONAL_DATA: 'no' })).toMatchObject({
      stage: 'dev',
      eventBusName: 'payout-link-tracker-dev',
      upstreamTimeoutMs: 5_000,
      secretMaxAgeSeconds: 300,
      maskPersonalData: false,
      schedule: { scale: 1 / 60 },
    });
  });

  it('names each faulty variable with an English message, never its value', () => {
    const load = () =>
      loadRuntimeConfig({ STAGE: 'Prod!', INSTANTPAY_SECRET_NAME: 's', UPSTREAM_TIMEOUT_MS: '-5' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      'Invalid environment: STAGE: a lower-case stage name such as dev or prod; TABLE_NAME: Invalid input: expected string, received undefined; UPSTREAM_TIMEOUT_MS: Too small: expected number to be >0',
    );
  });

  it.each(['0', '0/5', '1/0', '0/0'])(
    'refuses a schedule scale of %s: not a finite positive number',
    (scale) => {
      expect(() => loadRuntimeConfig({ ...ENV, SCHEDULE_SCALE: scale })).toThrow(
        'Invalid environment: SCHEDULE_SCALE: a positive number',
      );
    },
  );

  it('says how to write a schedule scale that is not a number', () => {
    expect(() => loadRuntimeConfig({ ...ENV, SCHEDULE_SCALE: 'fast' })).toThrow(
      'SCHEDULE_SCALE: a positive number such as 1, 0.5 or 1/60',
    );
  });
});
