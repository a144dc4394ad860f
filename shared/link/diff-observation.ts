import { ACTIVITY_ADDED, eventIdFor, type LinkChange, STATUS_CHANGED, type Trigger } from './link-event.ts';
import type { LinkObservation } from './link-observation.ts';
import type { LinkState } from './link-state.ts';
import { isFinal } from './link-status.ts';

export interface DiffContext {
  trigger: Trigger;
  stage: string;
}

export type DiffResult =
  /** The observation started before the newest one applied: it must change nothing. */
  | { kind: 'stale' }
  /** Nothing worth an event; the state may still move (amount, upstream stamp, check counters). */
  | { kind: 'unchanged' }
  | { kind: 'changed'; changes: LinkChange[] }
  /**
   * The stored status is final: nothing more is recorded for the link. `conflict` when InstantPay
   * now answers another status (a lagging replica, a glitch): never a second final event.
   */
  | { kind: 'final'; recorded: string; observed: string; conflict: boolean };

/**
 * Which events an observation (activity already masked) produces against the stored state.
 * The first observation of a link is a status change from `null`. A status change carries the
 * activity entries new since the last recorded one; new entries without a status change are an
 * activity event. At most one event per observation; `sequence` continues the link's own count.
 * Once a final status is recorded, no observation records anything more.
 */
export function diffObservation(
  stored: LinkState | null,
  observed: LinkObservation,
  context: DiffContext,
): DiffResult {
  if (stored?.lastObservedAt != null && observed.startedAt < stored.lastObservedAt) return { kind: 'stale' };
  if (stored?.status != null && isFinal(stored.status)) {
    return {
      kind: 'final',
      recorded: stored.status,
      observed: observed.status,
      conflict: observed.status !== stored.status,
    };
  }

  const previousStatus = stored?.status ?? null;
  const seen = stored?.activity.length ?? 0;
  const added = observed.activity.length > seen ? observed.activity.slice(seen) : [];
  const statusChanged = observed.status !== previousStatus;
  if (!statusChanged && added.length === 0) return { kind: 'unchanged' };

  const sequence = (stored?.sequence ?? 0) + 1;
  const change: LinkChange = {
    detailType: statusChanged ? STATUS_CHANGED : ACTIVITY_ADDED,
    detail: {
      eventId: eventIdFor(observed.linkId, sequence),
      linkId: observed.linkId,
      sequence,
      previousStatus,
      status: observed.status,
      final: isFinal(observed.status),
      amount: observed.amount,
      activity: added,
      observedAt: new Date(observed.observedAt).toISOString(),
      trigger: context.trigger,
      stage: context.stage,
      ...(stored?.reference === undefined ? {} : { reference: stored.reference }),
      ...(stored?.metadata === undefined ? {} : { metadata: stored.metadata }),
      upstream: {
        ipayUuid: observed.ipayUuid,
        timestamp: observed.timestamp,
        environment: observed.environment,
      },
    },
  };
  return { kind: 'changed', changes: [change] };
}
