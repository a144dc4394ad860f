import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIVITY_ADDED, STATUS_CHANGED } from '#shared/link/link-event.ts';
import { backoffSeconds, decide } from '#shared/webhooks/delivery.ts';
import {
  RETRY_BASE_DELAYS_SECONDS,
  RETRY_WINDOW_MS,
  subscriberRulePattern,
} from '#shared/webhooks/routing.ts';
import { subscriberUrlProblems } from '#shared/webhooks/subscriber.ts';
import { webhookType } from '#shared/webhooks/webhook-body.ts';

const NOW = Date.parse('2026-11-25T10:00:00Z');

describe('decide', () => {
  it('treats any 2xx as delivered', () => {
    for (const status of [200, 201, 202, 204, 299])
      expect(decide({ status, latencyMs: 1 }, 1, NOW, NOW).kind).toBe('delivered');
  });

  it('stops on 410 Gone', () => {
    expect(decide({ status: 410, latencyMs: 1 }, 1, NOW, NOW)).toEqual({ kind: 'gone' });
  });

  it('honours Retry-After on 429 and 5xx', () => {
    expect(decide({ status: 429, retryAfter: '120', latencyMs: 1 }, 1, NOW, NOW)).toMatchObject({
      kind: 'retry',
      delaySeconds: 120,
    });
    expect(decide({ status: 503, retryAfter: '7', latencyMs: 1 }, 4, NOW, NOW)).toMatchObject({
      kind: 'retry',
      delaySeconds: 7,
    });
  });

  it('retries everything else with backoff: other 4xx, 3xx, timeouts and network errors', () => {
    for (const result of [
      { status: 400 },
      { status: 301 },
      { status: 404 },
      { error: 'timeout' as const },
      { error: 'network' as const },
    ]) {
      expect(decide({ ...result, latencyMs: 1 }, 2, NOW, NOW, () => 0.5)).toMatchObject({
        kind: 'retry',
        delaySeconds: 150,
      });
    }
  });

  it('gives up to the dead-letter queue only after the 24-hour window', () => {
    const failed = { status: 500, latencyMs: 1 };
    expect(decide(failed, 30, NOW, NOW + RETRY_WINDOW_MS - 1).kind).toBe('retry');
    expect(decide(failed, 30, NOW, NOW + RETRY_WINDOW_MS).kind).toBe('dead');
  });

  it('never asks SQS for a wait longer than 12 hours', () => {
    expect(decide({ status: 503, retryAfter: '999999', latencyMs: 1 }, 1, NOW, NOW)).toMatchObject({
      delaySeconds: 3600,
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (attempt, r) => {
          const delay = backoffSeconds(attempt, () => r);
          expect(delay).toBeGreaterThanOrEqual(1);
          expect(delay).toBeLessThanOrEqual(43_200);
        },
      ),
    );
  });

  it('spreads retries with full jitter over an exponential schedule spanning more than a day', () => {
    expect(RETRY_BASE_DELAYS_SECONDS.reduce((sum, s) => sum + s, 0)).toBeGreaterThan(24 * 3600);
    expect(backoffSeconds(3, () => 0)).toBe(1);
    expect(backoffSeconds(3, () => 0.999)).toBe(1798);
  });
});

describe('subscriber URLs', () => {
  it.each([
    'http://hooks.example.com/x',
    'https://127.0.0.1/x',
    'https://10.0.0.8/x',
    'https://169.254.169.254/latest',
    'https://[::1]/x',
    'https://localhost/x',
    'https://192.168.1.2/',
    'https://[fe80::1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://metadata.google.internal/',
    'https://user:pw@hooks.example.com/',
  ])('refuses %s in a deployed stage', (url) => {
    expect(subscriberUrlProblems(url, { allowLoopback: false })).not.toEqual([]);
  });

  it('accepts a public https URL, and loopback over http only locally', () => {
    expect(subscriberUrlProblems('https://hooks.example.com/payout', { allowLoopback: false })).toEqual([]);
    expect(subscriberUrlProblems('http://127.0.0.1:9000/hook', { allowLoopback: true })).toEqual([]);
    expect(subscriberUrlProblems('http://10.0.0.8/hook', { allowLoopback: true })).not.toEqual([]);
  });
});

describe('routing and body', () => {
  it('puts the subscriber filters in the rule pattern', () => {
    expect(subscriberRulePattern({ statuses: ['CLAIMED'], detailTypes: [STATUS_CHANGED] })).toEqual({
      source: ['payout-link-tracker'],
      'detail-type': [STATUS_CHANGED],
      detail: { status: ['CLAIMED'] },
    });
    expect(subscriberRulePattern({})).toEqual({ source: ['payout-link-tracker'] });
  });

  it('names webhook types after the status, or activity', () => {
    expect(webhookType(STATUS_CHANGED, 'CLAIMED')).toBe('payout_link.claimed');
    expect(webhookType(ACTIVITY_ADDED, 'ISSUED')).toBe('payout_link.activity');
  });
});
