import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDeliverHandler } from '#functions/deliver-webhooks/wiring.ts';
import { createDiscoverHandler } from '#functions/discover-links/wiring.ts';
import { createRecheckHandler } from '#functions/recheck-pending/wiring.ts';
import { createTrackLinkHandler } from '#functions/track-link/wiring.ts';
import { ConfigError } from '#shared/config/runtime-config.ts';

// What a complete environment would hold, put where a factory must not look: process.env.
const PROCESS_ENV = {
  STAGE: 'dev',
  TABLE_NAME: 'links',
  EVENT_BUS_NAME: 'bus',
  INSTANTPAY_SECRET_NAME: 'secret',
  DELIVERIES_TABLE_NAME: 'deliveries',
  WEBHOOK_SUBSCRIBERS: '[]',
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the handler factories', () => {
  it.each([
    ['track-link', createTrackLinkHandler, 'STAGE'],
    ['recheck-pending', createRecheckHandler, 'STAGE'],
    ['deliver-webhooks', createDeliverHandler, 'WEBHOOK_SUBSCRIBERS'],
    ['discover-links', createDiscoverHandler, 'STAGE'],
  ] as const)(
    'build %s from the environment they are given, never from process.env',
    (_name, create, variable) => {
      for (const [key, value] of Object.entries(PROCESS_ENV)) vi.stubEnv(key, value);
      expect(() => create({})).toThrow(ConfigError);
      expect(() => create({})).toThrow(new RegExp(`${variable}: `));
      expect(typeof create(PROCESS_ENV)).toBe('function');
    },
  );

  it('refuse a discovery status InstantPay does not document, naming the variable', () => {
    const create = () => createDiscoverHandler({ ...PROCESS_ENV, DISCOVERY_STATUSES: 'ISSUED,LOST' });
    expect(create).toThrow(/^Invalid environment: DISCOVERY_STATUSES/);
  });

  it('reject a faulty variable naming it, never its value', () => {
    const create = () => createRecheckHandler({ ...PROCESS_ENV, RECHECK_CONCURRENCY: '999999' });
    expect(create).toThrow(/^Invalid environment: RECHECK_CONCURRENCY: /);
    expect(create).not.toThrow(/999999/);
  });
});
