import { describe, expect, it } from 'vitest';
import { retryAfterSeconds } from '#shared/http/retry-after.ts';

const NOW = Date.parse('2026-11-25T10:00:00Z');

describe('retryAfterSeconds', () => {
  it('reads delta-seconds and HTTP-dates, and nothing else', () => {
    expect(retryAfterSeconds('30', NOW)).toBe(30);
    expect(retryAfterSeconds(' 30 ', NOW)).toBe(30);
    expect(retryAfterSeconds(new Date(NOW + 90_000).toUTCString(), NOW)).toBe(90);
    expect(retryAfterSeconds(new Date(NOW - 90_000).toUTCString(), NOW)).toBe(-90);
    for (const header of [null, undefined, '', 'soon', '1.5e3x'])
      expect(retryAfterSeconds(header, NOW)).toBeUndefined();
  });
});
