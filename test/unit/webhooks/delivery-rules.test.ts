import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIVITY_ADDED, STATUS_CHANGED } from '#shared/link/link-event.ts';
import { backoffSeconds, decide, retryDelaySeconds } from '#shared/webhooks/delivery.ts';
import {
  RETRY_BASE_DELAYS_SECONDS,
  RETRY_WINDOW_MS,
  retryFloorSeconds,
  subscriberRulePattern,
  WEBHOOK_QUEUE,
} from '#shared/webhooks/routing.ts';
import { loopbackAllowedIn, SubscriberSchema, subscriberUrlProblems } from '#shared/webhooks/subscriber.ts';
import { webhookType } from '#shared/webhooks/webhook-body.ts';

const NOW = Date.parse('2026-11-25T10:00:00Z');

describe('decide', () => {
  it('treats any 2xx as delivered', () => {
    for (const status of [200, 201, 202, 204, 299])
      expect(decide({ status, latencyMs: 1 }, 1, NOW, NOW).kind).toBe('delivered');
  });

  it('retries what is not 2xx, an informational status included', () => {
    for (const status of [100, 199, 300])
      expect(decide({ status, latencyMs: 1 }, 1, NOW, NOW).kind).toBe('retry');
  });

  it('stops on 410 Gone', () => {
    expect(decide({ status: 410, latencyMs: 1 }, 1, NOW, NOW)).toEqual({ kind: 'gone' });
  });

  it('honours a Retry-After on 429 and 5xx when it asks for longer than the backoff', () => {
    expect(decide({ status: 429, retryAfter: '120', latencyMs: 1 }, 1, NOW, NOW)).toMatchObject({
      kind: 'retry',
      delaySeconds: 120,
    });
    const inAnHour = new Date(NOW + 3_600_000).toUTCString();
    expect(
      decide({ status: 503, retryAfter: inAnHour, latencyMs: 1 }, 2, NOW, NOW, { random: () => 0 }),
    ).toMatchObject({ kind: 'retry', delaySeconds: 3600 });
  });

  it('honours a Retry-After on a 500 too, and on no other answer than 429 and 5xx', () => {
    const asked = { retryAfter: '7200', latencyMs: 1 };
    expect(decide({ status: 500, ...asked }, 1, NOW, NOW, { random: () => 0 })).toMatchObject({
      delaySeconds: 7200,
    });
    for (const status of [301, 400, 404, 409])
      expect(decide({ status, ...asked }, 1, NOW, NOW, { random: () => 0 })).toMatchObject({
        delaySeconds: retryFloorSeconds(1),
      });
  });

  it('never shortens the backoff for a Retry-After: 0, 1, negative, past, or unreadable', () => {
    for (const retryAfter of ['0', '1', '-5', 'soon', new Date(NOW - 60_000).toUTCString(), '']) {
      expect(
        decide({ status: 503, retryAfter, latencyMs: 1 }, 4, NOW, NOW, { random: () => 0 }),
      ).toMatchObject({ kind: 'retry', delaySeconds: retryFloorSeconds(4) });
    }
  });

  it('retries everything else with backoff: other 4xx, 3xx, timeouts, connection errors, refused addresses', () => {
    for (const result of [
      { status: 400 },
      { status: 301 },
      { status: 404 },
      { error: 'timeout' as const },
      { error: 'connection' as const },
      { error: 'refused-address' as const },
    ]) {
      expect(decide({ ...result, latencyMs: 1 }, 2, NOW, NOW, { random: () => 0.5 })).toMatchObject({
        kind: 'retry',
        delaySeconds: 225,
      });
    }
  });

  it('gives up to the dead-letter queue only after the 24-hour window', () => {
    const failed = { status: 500, latencyMs: 1 };
    expect(decide(failed, 30, NOW, NOW + RETRY_WINDOW_MS - 1).kind).toBe('retry');
    expect(decide(failed, 30, NOW, NOW + RETRY_WINDOW_MS)).toEqual({ kind: 'dead', reason: 'HTTP 500' });
    expect(decide({ error: 'refused-address', latencyMs: 1 }, 9, NOW, NOW + RETRY_WINDOW_MS)).toEqual({
      kind: 'dead',
      reason: 'refused-address',
    });
    expect(decide({ latencyMs: 1 }, 9, NOW, NOW + RETRY_WINDOW_MS)).toEqual({
      kind: 'dead',
      reason: 'connection',
    });
  });

  it('never asks SQS for a wait longer than 12 hours, nor one past the end of the window', () => {
    expect(decide({ status: 503, retryAfter: '999999', latencyMs: 1 }, 1, NOW, NOW)).toMatchObject({
      delaySeconds: 43_200,
    });
    expect(
      decide({ status: 503, retryAfter: '999999', latencyMs: 1 }, 8, NOW, NOW + RETRY_WINDOW_MS - 90_000),
    ).toMatchObject({ delaySeconds: 90 });
  });
});

describe('retryDelaySeconds', () => {
  it('hands a message at or past the end of the window to the queue visibility timeout, never a zero or negative wait', () => {
    for (const ageMs of [RETRY_WINDOW_MS, RETRY_WINDOW_MS + 1, RETRY_WINDOW_MS + 3_600_000]) {
      expect(retryDelaySeconds(7, ageMs, { random: () => 0 })).toBe(WEBHOOK_QUEUE.visibilityTimeoutSeconds);
      expect(retryDelaySeconds(1, ageMs, { random: () => 0 })).toBe(retryFloorSeconds(1));
    }
  });
});

describe('backoffSeconds', () => {
  it('draws each wait between the floor of its attempt and its base, whatever random returns', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(Number.NaN, -1, 2)),
        (attempt, r) => {
          const delay = backoffSeconds(attempt, { random: () => r });
          const base = RETRY_BASE_DELAYS_SECONDS[Math.min(attempt, RETRY_BASE_DELAYS_SECONDS.length) - 1]!;
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(retryFloorSeconds(attempt));
          expect(delay).toBeGreaterThanOrEqual(base / 2);
          expect(delay).toBeLessThanOrEqual(base);
        },
      ),
    );
  });

  it('grows from seconds to 12 hours over the documented bases', () => {
    expect(RETRY_BASE_DELAYS_SECONDS).toEqual([5, 300, 1800, 7200, 18_000, 36_000, 43_200]);
    expect(backoffSeconds(3, { random: () => 0 })).toBe(900);
    expect(backoffSeconds(3, { random: () => 0.999999 })).toBe(1800);
    expect(backoffSeconds(50, { random: () => 0 })).toBe(21_600);
  });

  it('compresses the backoff by the policy scale', () => {
    expect(backoffSeconds(3, { random: () => 0, scale: 0.01 })).toBe(9);
    expect(backoffSeconds(3, { random: () => 0, scale: 2 })).toBe(1800);
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
    'https://localhost./x',
    'https://LOCALHOST../x',
    'https://api.localhost./x',
    'https://192.168.1.2/',
    'https://[fe80::1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[::ffff:8.8.8.8]/',
    'https://[::8.8.8.8]/',
    'https://[64:ff9b::a00:1]/',
    'https://[2002:a00:1::1]/',
    'https://[fec0::1]/',
    'https://[ff02::1]/',
    'https://224.0.0.1/',
    'https://239.255.255.250/',
    'https://255.255.255.255/',
    'https://0x7f.1/',
    'https://2130706433/',
    'https://metadata.google.internal/',
    'https://metadata.google.internal./',
    'https://intranet/',
    'https://printer.local/',
    'https://user:pw@hooks.example.com/',
  ])('refuses %s in a deployed stage', (url) => {
    expect(subscriberUrlProblems(url, { allowLoopback: false })).not.toEqual([]);
  });

  it('accepts a public https URL, and loopback over http only locally', () => {
    expect(subscriberUrlProblems('https://hooks.example.com/payout', { allowLoopback: false })).toEqual([]);
    expect(subscriberUrlProblems('https://8.8.8.8/payout', { allowLoopback: false })).toEqual([]);
    expect(subscriberUrlProblems('https://[2606:4700::1111]/payout', { allowLoopback: false })).toEqual([]);
    expect(subscriberUrlProblems('http://127.0.0.1:9000/hook', { allowLoopback: true })).toEqual([]);
    expect(subscriberUrlProblems('http://localhost.:9000/hook', { allowLoopback: true })).toEqual([]);
    expect(subscriberUrlProblems('http://10.0.0.8/hook', { allowLoopback: true })).not.toEqual([]);
  });

  it('says what is wrong with a URL it refuses, each problem once', () => {
    const deployed = { allowLoopback: false };
    const local = { allowLoopback: true };
    expect(subscriberUrlProblems('hooks.example.com/payout', deployed)).toEqual(['is not a URL']);
    expect(subscriberUrlProblems('http://hooks.example.com/', local)).toEqual(['must use https']);
    expect(subscriberUrlProblems('ftp://127.0.0.1/', local)).toEqual(['must use https']);
    expect(subscriberUrlProblems('https://user@hooks.example.com/', deployed)).toEqual([
      'must not carry credentials',
    ]);
    expect(subscriberUrlProblems('https://:secret@hooks.example.com/', deployed)).toEqual([
      'must not carry credentials',
    ]);
    expect(subscriberUrlProblems('https://127.0.0.1/', deployed)).toEqual([
      'must not point at a loopback address',
    ]);
    expect(subscriberUrlProblems('https://10.0.0.8/', deployed)).toEqual([
      'must not point at a private, link-local or metadata address, nor any other non-public one',
    ]);
    expect(subscriberUrlProblems('http://user:pw@[::1]:9000/', deployed)).toEqual([
      'must use https',
      'must not carry credentials',
      'must not point at a loopback address',
    ]);
  });

  it('allows loopback in the local stage only', () => {
    expect(loopbackAllowedIn('local')).toBe(true);
    for (const stage of ['dev', 'staging', 'prod', 'test', 'Local'])
      expect(loopbackAllowedIn(stage)).toBe(false);
  });
});

describe('SubscriberSchema', () => {
  const subscriber = {
    name: 'ledger',
    url: 'https://hooks.example.com/payout',
    secretName: 'tracker/prod/webhooks/ledger',
  };

  it('takes a subscriber as the stage config declares it, filters included', () => {
    const filtered = { ...subscriber, statuses: ['CLAIMED'], detailTypes: [STATUS_CHANGED, ACTIVITY_ADDED] };
    expect(SubscriberSchema.parse(subscriber)).toEqual(subscriber);
    expect(SubscriberSchema.parse(filtered)).toEqual(filtered);
  });

  it('refuses a name that is not 1 to 40 lower-case letters, digits and -, starting with a letter or digit', () => {
    expect(SubscriberSchema.safeParse({ ...subscriber, name: 'a'.repeat(40) }).success).toBe(true);
    for (const name of ['', '-ledger', 'Ledger', 'ledger!', 'ledger_1', 'a'.repeat(41), 'ledger\n']) {
      const parsed = SubscriberSchema.safeParse({ ...subscriber, name });
      expect(parsed.success, JSON.stringify(name)).toBe(false);
      expect(parsed.error?.issues[0]?.message).toBe('lower-case letters, digits and -, at most 40');
    }
  });

  it('refuses an unknown detail-type filter', () => {
    expect(SubscriberSchema.safeParse({ ...subscriber, detailTypes: ['Payout Link Deleted'] }).success).toBe(
      false,
    );
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
