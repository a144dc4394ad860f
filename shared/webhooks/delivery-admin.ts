import { randomUUID } from 'node:crypto';
import { type Clock, systemClock } from '#shared/clock.ts';
import { EVENT_SOURCE } from '#shared/link/link-event.ts';
import type { LinkState } from '#shared/link/link-state.ts';
import type { SubscriberHealth } from '#shared/store/delivery-log.ts';
import type { StoredChange } from '#shared/store/link-queries.ts';
import { LinkNotTrackedError } from '#shared/tracker/tracker-errors.ts';
import type { DeliveryTarget } from './delivery-config.ts';
import { EventsNotFoundError, SubscriberDisabledError, SubscriberNotFoundError } from './delivery-errors.ts';
import type { DeliveryQueue } from './delivery-queue.ts';
import { type DeliveryRecord, type DeliveryView, deliveriesOf, shownUrl } from './delivery-record.ts';
import { subscriberReceives } from './routing.ts';
import type { SubscriberState } from './subscriber-state.ts';

/** A subscriber as `GET /subscribers` shows it (the Release 2 contract). */
export interface SubscriberView {
  name: string;
  /** Scheme, host and path only. */
  url: string;
  enabled: boolean;
  disabledAt?: string;
  disabledReason?: string;
  lastDeliveredAt?: string;
  lastFailedAt?: string;
  consecutiveFailures: number;
  /** Messages in the subscriber's dead-letter queue (SQS's approximate count). */
  deadLetters: number;
}

export interface LinkDeliveries {
  linkId: string;
  deliveries: DeliveryView[];
}

export interface DeliveryAdminDeps {
  targets: readonly DeliveryTarget[];
  /** The attempt log (`DeliveryLog`). */
  attempts: {
    ofLink(linkId: string): Promise<DeliveryRecord[]>;
    health(subscriber: string): Promise<SubscriberHealth>;
  };
  /** The subscribers' disabled flags (`SubscriberStateStore`). */
  state: {
    get(name: string, now?: number, options?: { fresh?: boolean }): Promise<SubscriberState>;
    enable(name: string, now?: number): Promise<SubscriberState>;
  };
  queue: DeliveryQueue;
  /** The link table: a link exists (`LinkStore`); the recorded changes a resend sends again (`LinkQueries`). */
  links: { getLink(linkId: string, consistent?: boolean): Promise<LinkState | null> };
  changes: { findChanges(eventIds: readonly string[]): Promise<StoredChange[]> };
  clock?: Clock;
}

/**
 * What an integrator and an operator ask of webhook deliveries: what was sent for a link and what
 * the receiver answered, each subscriber's health, sending events again, and enabling a subscriber
 * that a 410 disabled (its kept deliveries moved back to its queue).
 */
export class DeliveryAdmin {
  private readonly clock: Clock;
  private readonly byName: Map<string, DeliveryTarget>;

  constructor(private readonly deps: DeliveryAdminDeps) {
    this.clock = deps.clock ?? systemClock;
    this.byName = new Map(deps.targets.map((target) => [target.name, target]));
  }

  /** Every delivery of the link's events, per subscriber, with its attempts (the last 30 days). */
  async deliveries(linkId: string): Promise<LinkDeliveries> {
    const [link, records] = await Promise.all([
      this.deps.links.getLink(linkId, false),
      this.deps.attempts.ofLink(linkId),
    ]);
    if (!link) throw new LinkNotTrackedError(linkId);
    return { linkId, deliveries: deliveriesOf(records) };
  }

  async subscribers(): Promise<SubscriberView[]> {
    return Promise.all(this.deps.targets.map((target) => this.view(target)));
  }

  /**
   * Puts these events on the subscriber's queue again, each once, with its original `eventId` (the
   * `webhook-id`), whatever their state. All or nothing: an id that is not an event this subscriber
   * receives refuses the whole request before anything is queued.
   */
  async resend(name: string, eventIds: readonly string[]): Promise<{ queued: number }> {
    const target = this.target(name);
    const state = await this.deps.state.get(name, this.clock.now(), { fresh: true });
    if (state.disabled) throw new SubscriberDisabledError(name, state.disabledAt);
    const ids = [...new Set(eventIds.map((id) => id.toLowerCase()))];
    const found = new Map(
      (await this.deps.changes.findChanges(ids)).map((change) => [change.detail.eventId, change]),
    );
    const unknown = ids.filter((id) => !found.has(id)).length;
    const notReceived = [...found.values()].filter(
      (change) =>
        !subscriberReceives(target, { detailType: change.detailType, status: change.detail.status }),
    ).length;
    if (unknown + notReceived > 0) throw new EventsNotFoundError(ids.length, unknown, notReceived);
    const bodies = ids.map((id) => busEventBody(found.get(id)!));
    await this.deps.queue.send(target, bodies);
    return { queued: bodies.length };
  }

  /**
   * Enables the subscriber (whatever disabled it), then starts moving its dead-lettered deliveries
   * back to its queue, as `redrive` does; answers the subscriber as it is then.
   */
  async enable(name: string): Promise<SubscriberView> {
    const target = this.target(name);
    await this.deps.state.enable(name, this.clock.now());
    await this.deps.queue.startRedrive(target);
    return this.view(target);
  }

  private target(name: string): DeliveryTarget {
    const target = this.byName.get(name);
    if (!target) throw new SubscriberNotFoundError(name);
    return target;
  }

  private async view(target: DeliveryTarget): Promise<SubscriberView> {
    const [state, health, deadLetters] = await Promise.all([
      this.deps.state.get(target.name, this.clock.now(), { fresh: true }),
      this.deps.attempts.health(target.name),
      this.deps.queue.deadLetterCount(target),
    ]);
    const iso = (at: number | null) => (at === null ? undefined : new Date(at).toISOString());
    const lastDeliveredAt = iso(health.lastDeliveredAt);
    const lastFailedAt = iso(health.lastFailedAt);
    return {
      name: target.name,
      url: shownUrl(target.url),
      enabled: !state.disabled,
      ...(state.disabled && state.disabledAt ? { disabledAt: state.disabledAt } : {}),
      ...(state.disabled && state.reason ? { disabledReason: state.reason } : {}),
      ...(lastDeliveredAt ? { lastDeliveredAt } : {}),
      ...(lastFailedAt ? { lastFailedAt } : {}),
      consecutiveFailures: health.consecutiveFailures,
      deadLetters,
    };
  }
}

/** A recorded change as its rule puts it on a subscriber queue: an EventBridge event (the deliverer reads `detail-type` and `detail`). */
function busEventBody(change: StoredChange): string {
  return JSON.stringify({
    version: '0',
    id: randomUUID(),
    'detail-type': change.detailType,
    source: EVENT_SOURCE,
    time: change.detail.observedAt,
    resources: [],
    detail: change.detail,
  });
}
