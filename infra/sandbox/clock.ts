import type { Clock } from '#shared/clock.ts';

/** A clock that only moves when told to: tests and `SANDBOX_CLOCK=manual` move link timelines without sleeping. */
export class ManualClock implements Clock {
  private current: number;

  constructor(startMs: number = Date.now()) {
    assertFinite(startMs, 'startMs');
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    assertFinite(ms, 'ms');
    if (ms < 0) throw new RangeError(`A clock only moves forward; advance(${ms}) is negative`);
    this.current += ms;
  }

  set(ms: number): void {
    assertFinite(ms, 'ms');
    this.current = ms;
  }
}

function assertFinite(value: number, name: string): void {
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be a finite number of milliseconds`);
}
