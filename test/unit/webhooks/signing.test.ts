import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signatureHeader } from '#shared/webhooks/signing.ts';
import { activeSecrets, generateWebhookSecret, rotate } from '#shared/webhooks/webhook-secret.ts';

const body = JSON.stringify({
  type: 'payout_link.claimed',
  timestamp: '2026-11-25T10:00:00.000Z',
  data: { a: 1 },
});
const id = '8c0e5a5e-3b1f-5b7e-9d2a-0c1f2e3d4c5b';

function headers(secrets: string[], timestamp = Math.floor(Date.now() / 1000), payload = body) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatureHeader(id, timestamp, payload, secrets),
  };
}

describe('webhook signatures (Standard Webhooks)', () => {
  it('verify with the reference standardwebhooks package', () => {
    const secret = generateWebhookSecret();
    expect(new Webhook(secret).verify(body, headers([secret]))).toEqual(JSON.parse(body));
  });

  it('carry one v1 signature per active secret during a rotation, each verifying alone', () => {
    const now = Date.now();
    const rotated = rotate({ current: generateWebhookSecret() }, now);
    const secrets = activeSecrets(rotated, now);
    expect(secrets).toHaveLength(2);
    const signed = headers(secrets);
    expect(signed['webhook-signature'].split(' ')).toHaveLength(2);
    expect(signed['webhook-signature'].split(' ').every((part) => part.startsWith('v1,'))).toBe(true);
    expect(() => new Webhook(rotated.current).verify(body, signed)).not.toThrow();
    expect(() => new Webhook(rotated.previous!).verify(body, signed)).not.toThrow();
  });

  it('stop signing with the previous secret once it expires', () => {
    const now = Date.now();
    const rotated = rotate({ current: generateWebhookSecret() }, now, 1_000);
    expect(activeSecrets(rotated, now + 2_000)).toEqual([rotated.current]);
  });

  it('fail verification for a tampered body or a stale timestamp', () => {
    const secret = generateWebhookSecret();
    expect(() =>
      new Webhook(secret).verify(body.replace('claimed', 'cancelled'), headers([secret])),
    ).toThrow();
    const stale = Math.floor(Date.now() / 1000) - 3600;
    expect(() => new Webhook(secret).verify(body, headers([secret], stale))).toThrow();
  });

  it('fail verification with another secret', () => {
    expect(() =>
      new Webhook(generateWebhookSecret()).verify(body, headers([generateWebhookSecret()])),
    ).toThrow();
  });
});
