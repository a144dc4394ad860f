import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LinkChange } from '#shared/link/link-event.ts';
import { PublishBuffer } from '#shared/recheck/publish-buffer.ts';

const change = (n: number) => ({ detail: { eventId: `e${n}` } }) as unknown as LinkChange;

afterEach(() => {
  vi.useRealTimers();
});

describe('PublishBuffer', () => {
  it('sends the changes of many links in full batches of ten', async () => {
    const calls: number[] = [];
    const buffer = new PublishBuffer(async (changes) => {
      calls.push(changes.length);
      return 0;
    });
    for (let i = 0; i < 25; i++) buffer.add([change(i)]);
    await buffer.drain();
    expect(calls).toEqual([10, 10, 5]);
    expect(buffer.published).toBe(25);
  });

  it('does not hold a change longer than its delay', async () => {
    vi.useFakeTimers();
    const calls: number[] = [];
    const buffer = new PublishBuffer(async (changes) => {
      calls.push(changes.length);
      return 0;
    }, 500);
    buffer.add([change(1), change(2)]);
    await vi.advanceTimersByTimeAsync(499);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([2]);
  });

  it('counts what the bus refused or failed to take as unpublished, never throwing', async () => {
    let call = 0;
    const buffer = new PublishBuffer(async (_changes) => {
      call++;
      if (call === 1) throw new Error('bus down');
      return 1;
    });
    for (let i = 0; i < 20; i++) buffer.add([change(i)]);
    await buffer.drain();
    expect(buffer.unpublished).toBe(11);
    expect(buffer.published).toBe(9);
  });
});
