import type { LinkActivity } from '#shared/instantpay/schemas.ts';
import type { LinkState, UpstreamStamp } from './link-state.ts';
import { isFinal } from './link-status.ts';

/** The API's representation of a link (`../shared/ARCHITECTURE.md`, HTTP API). Times are ISO 8601. */
export interface LinkView {
  linkId: string;
  status: string | null;
  final: boolean;
  amount: number | null;
  activity: LinkActivity[];
  sequence: number;
  firstSeenAt: string | null;
  lastCheckedAt: string | null;
  nextCheckAt: string | null;
  checks: number;
  reference?: string;
  metadata?: Record<string, string>;
  upstream: UpstreamStamp | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toLinkView(state: LinkState): LinkView {
  return {
    linkId: state.linkId,
    status: state.status,
    final: state.status !== null && isFinal(state.status),
    amount: state.amount,
    activity: state.activity,
    sequence: state.sequence,
    firstSeenAt: iso(state.firstSeenAt),
    lastCheckedAt: iso(state.lastCheckedAt),
    nextCheckAt: iso(state.nextCheckAt),
    checks: state.checks,
    ...(state.reference === undefined ? {} : { reference: state.reference }),
    ...(state.metadata === undefined ? {} : { metadata: state.metadata }),
    upstream: state.upstream,
  };
}
