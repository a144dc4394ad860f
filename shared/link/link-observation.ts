import type { LinkActivity } from './link-activity.schema.ts';

/** An activity entry; its schema, part of the published contracts, is in `link-activity.schema.ts`. */
export type { LinkActivity };

/** One successful look at a link upstream, as the link model reads it (the InstantPay client maps its answer to it). */
export interface LinkObservation {
  linkId: string;
  /** The link's status as InstantPay sent it; unknown values are kept. */
  status: string;
  amount: number;
  activity: LinkActivity[];
  /** InstantPay's `statuscode` of the answer. */
  statuscode: string;
  ipayUuid: string | null;
  /** The answer's own time (`YYYY-MM-DD HH:mm:ss`, IST). */
  timestamp: string | null;
  environment: string | null;
  /** When the request was sent (epoch ms): an observation started before a newer one is stale. */
  startedAt: number;
  /** When the answer was read (epoch ms). */
  observedAt: number;
}
