import { describe, expect, it } from 'vitest';
import { SandboxInputError } from '#infra/sandbox/errors.ts';
import { FaultStore } from '#infra/sandbox/faults.ts';

/** mulberry32: a small seeded generator, so probability tests are repeatable. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('FaultStore', () => {
  it('applies a fault with no count or probability to every matching request', () => {
    const faults = new FaultStore();
    faults.add({ kind: 'malformed' });
    for (let i = 0; i < 5; i++) expect(faults.select('any').fault?.kind).toBe('malformed');
  });

  it('uses up a counted fault after that many requests', () => {
    const faults = new FaultStore();
    faults.add({ kind: 'http-status', value: 503, count: 2 });
    expect(faults.select('a').fault).toMatchObject({ kind: 'http-status', value: 503 });
    expect(faults.select('a').fault?.kind).toBe('http-status');
    expect(faults.select('a').fault).toBeUndefined();
    expect(faults.list()).toEqual([]);
  });

  it('applies a fault with a probability about that often, repeatably with a seeded random', () => {
    const run = () => {
      const faults = new FaultStore(seededRandom(42));
      faults.add({ kind: 'statuscode', value: 'TUP', probability: 0.3 });
      return Array.from({ length: 1_000 }, () => faults.select('a').fault !== undefined);
    };
    const hits = run();
    const rate = hits.filter(Boolean).length / hits.length;
    expect(rate).toBeGreaterThan(0.25);
    expect(rate).toBeLessThan(0.35);
    expect(run()).toEqual(hits);
  });

  it('does not use up a counted fault when its probability roll fails', () => {
    const rolls = [0.9, 0.1];
    const faults = new FaultStore(() => rolls.shift() ?? 0.9);
    faults.add({ kind: 'timeout', value: 10, count: 1, probability: 0.5 });
    expect(faults.select('a').fault).toBeUndefined();
    expect(faults.select('a').fault?.kind).toBe('timeout');
    expect(faults.select('a').fault).toBeUndefined();
  });

  it('limits a fault with a linkId to requests about that link', () => {
    const faults = new FaultStore();
    faults.add({ kind: 'statuscode', value: 'SPD', linkId: 'target' });
    expect(faults.select('other').fault).toBeUndefined();
    expect(faults.select(undefined).fault).toBeUndefined();
    expect(faults.select('target').fault).toMatchObject({ kind: 'statuscode', value: 'SPD' });
  });

  it('composes the first latency with the first other matching fault', () => {
    const faults = new FaultStore();
    faults.add({ kind: 'latency', value: 50 });
    faults.add({ kind: 'latency', value: 70 });
    faults.add({ kind: 'statuscode', value: 'IAC', linkId: 'other' });
    faults.add({ kind: 'malformed', count: 1 });
    faults.add({ kind: 'http-status' });
    expect(faults.select('a')).toMatchObject({ latencyMs: 50, fault: { kind: 'malformed' } });
    expect(faults.select('a')).toMatchObject({ latencyMs: 50, fault: { kind: 'http-status', value: 500 } });
  });

  it('fills in default values', () => {
    const faults = new FaultStore();
    faults.add({ kind: 'latency' });
    faults.add({ kind: 'timeout' });
    faults.add({ kind: 'malformed' });
    expect(faults.list().map((fault) => fault.value)).toEqual([1_000, 60_000, '<html>Bad Gateway</html>']);
  });

  it('rejects invalid faults', () => {
    const faults = new FaultStore();
    for (const input of [
      undefined,
      { kind: 'explode' },
      { kind: 'statuscode' },
      { kind: 'statuscode', value: 12 },
      { kind: 'http-status', value: 99 },
      { kind: 'latency', value: -1 },
      { kind: 'latency', value: 'slow' },
      { kind: 'malformed', count: 0 },
      { kind: 'malformed', probability: 1.5 },
      { kind: 'malformed', linkId: '' },
      { kind: 'malformed', probabilty: 0.5 },
    ]) {
      expect(() => faults.add(input), JSON.stringify(input)).toThrow(SandboxInputError);
    }
  });

  it('clears every fault', () => {
    const faults = new FaultStore();
    faults.add({ kind: 'malformed' });
    faults.clear();
    expect(faults.select('a')).toEqual({ latencyMs: 0, fault: undefined });
  });
});
