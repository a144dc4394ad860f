import type { LinkState } from './link-state.ts';
import { isFinal } from './link-status.ts';
import type { LinkView } from './link-view.schema.ts';

/** The API's representation of a link; its schema, a published contract, is in `link-view.schema.ts`. */
export type { LinkView };

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
    ...(state.watchEnded === null
      ? {}
      : { watchEnded: { reason: state.watchEnded.reason, at: new Date(state.watchEnded.at).toISOString() } }),
    ...(state.lastError === null
      ? {}
      : {
          lastError: {
            error: state.lastError.error,
            ...(state.lastError.statuscode === undefined ? {} : { statuscode: state.lastError.statuscode }),
            at: new Date(state.lastError.at).toISOString(),
          },
        }),
  };
}
