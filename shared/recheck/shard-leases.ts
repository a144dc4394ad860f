import type { Clock } from '#shared/clock.ts';

/** The lease writes a sweep makes on the table: one item per due-index shard (`SweepQueries` implements it). */
export interface LeaseStore {
  /** `true` when this holder now holds the shard until `until` (free, ended before `now`, or already its own). */
  takeLease(shard: string, holder: string, until: number, now: number): Promise<boolean>;
  /** `true` when the lease was still this holder's and now ends at `until`. */
  renewLease(shard: string, holder: string, until: number): Promise<boolean>;
  /** `true` when the lease was still this holder's and is now free. */
  releaseLease(shard: string, holder: string, now: number): Promise<boolean>;
}

/**
 * The due-index shards one run holds. A lease is taken with one conditional write and lasts longer
 * than the run can live (`leaseMs`: the invocation's remaining time plus a margin), so it can only
 * end under a run that is already dead; the run renews it if it would end before a check taken now
 * could finish, and stops taking the shard's links once it is lost. No per-link claim is needed:
 * while a run holds a shard, no other run reads its due links.
 */
export class ShardLeases {
  private readonly until = new Map<string, number>();
  private readonly renewals = new Map<string, Promise<boolean>>();
  /** Shards whose lease this run held and lost (another run took it, or the renewal failed). */
  lost = 0;

  constructor(
    private readonly store: LeaseStore,
    readonly holder: string,
    private readonly clock: Clock,
    private readonly leaseMs: () => number,
  ) {}

  /** Takes the shard's lease: `false` when another run holds it. A failed write throws. */
  async take(shard: string): Promise<boolean> {
    const now = this.clock.now();
    const until = now + this.leaseMs();
    if (!(await this.store.takeLease(shard, this.holder, until, now))) return false;
    this.until.set(shard, until);
    return true;
  }

  /**
   * Whether this run still holds the shard for at least `forMs`: a lease that ends sooner is renewed
   * first (one write, however many workers ask at once).
   */
  async holds(shard: string, forMs: number): Promise<boolean> {
    const until = this.until.get(shard);
    if (until === undefined) return false;
    if (until - this.clock.now() >= forMs) return true;
    let renewal = this.renewals.get(shard);
    if (!renewal) {
      renewal = this.renew(shard).finally(() => this.renewals.delete(shard));
      this.renewals.set(shard, renewal);
    }
    return (await renewal) && (this.until.get(shard) ?? 0) - this.clock.now() >= forMs;
  }

  /** Ends every lease still held; answers how many could not be released (they end on their own). */
  async releaseAll(): Promise<number> {
    const shards = [...this.until.keys()];
    this.until.clear();
    const outcomes = await Promise.allSettled(
      shards.map((shard) => this.store.releaseLease(shard, this.holder, this.clock.now())),
    );
    return outcomes.filter((outcome) => outcome.status === 'rejected').length;
  }

  private async renew(shard: string): Promise<boolean> {
    const until = this.clock.now() + this.leaseMs();
    // A renewal that cannot be written counts as lost: stopping is safe, going on might not be.
    const renewed = await this.store.renewLease(shard, this.holder, until).catch(() => false);
    if (renewed) this.until.set(shard, until);
    else if (this.until.delete(shard)) this.lost++;
    return renewed;
  }
}
