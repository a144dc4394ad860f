import * as z from 'zod';
import { ActivitySchema } from '#shared/instantpay/schemas.ts';
import type { LinkState } from './link-state.ts';
import { isFinal } from './link-status.ts';

/** The API's representation of a link (`../shared/ARCHITECTURE.md`, HTTP API). Times are ISO 8601. */
export const LinkViewSchema = z
  .object({
    linkId: z.string(),
    status: z.string().nullable().describe('`null` until InstantPay has answered once'),
    final: z.boolean(),
    amount: z.number().nullable(),
    activity: z.array(ActivitySchema).describe('Every activity entry seen, personal data masked'),
    sequence: z.number().int().min(0).describe('The number of recorded changes'),
    firstSeenAt: z.string().nullable(),
    lastCheckedAt: z.string().nullable(),
    nextCheckAt: z.string().nullable().describe('`null` when the link is not watched'),
    checks: z.number().int().min(0),
    reference: z.string().optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    upstream: z
      .object({
        statuscode: z.string(),
        ipayUuid: z.string().nullable(),
        environment: z.string().nullable(),
        timestamp: z.string().nullable(),
      })
      .nullable(),
  })
  .meta({ title: 'LinkView' });
export type LinkView = z.infer<typeof LinkViewSchema>;

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
