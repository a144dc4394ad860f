import * as z from '#shared/zod.ts';
import { numeric } from './schemas.ts';

/**
 * A record of a List answer (`data.records[]`). Its fields are known only from a secondary copy
 * (`../shared/upstream/PAYOUT-LINK-ENDPOINTS.md` section 4.3): only `linkId` is required, the others
 * are read when they have the expected type, and every field is kept (unknown ones too).
 */
export const ListedLinkSchema = z.looseObject({
  linkId: z.string(),
  status: z.catch(z.optional(z.string()), undefined),
  referenceNo: z.catch(z.nullish(z.string()), undefined),
  expiredAt: z.catch(z.nullish(z.string()), undefined),
});
export type ListedLink = z.infer<typeof ListedLinkSchema>;

const count = z.catch(z.optional(numeric), undefined);

/** `data.meta` of a List answer (secondary source): informative only, never what ends a walk. */
export const ListMetaSchema = z.looseObject({
  totalPages: count,
  currentPage: count,
  totalRecords: count,
  recordsOnCurrentPage: count,
  recordFrom: count,
  recordTo: count,
});
export type ListMeta = z.infer<typeof ListMetaSchema>;

/** `data` of a List answer: `records` is what matters; a `meta` that does not parse is dropped. */
export const ListDataSchema = z.looseObject({
  records: z.array(z.unknown()),
  meta: z.catch(z.nullish(ListMetaSchema), null),
});
