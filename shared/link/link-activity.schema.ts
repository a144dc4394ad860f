import * as z from 'zod';

/**
 * One entry of a link's activity log as the tracker records, publishes and shows it (personal data
 * masked), as a published contract: the event details and the link view embed it. The link model's
 * own: the InstantPay client's parser may accept more without changing what is published.
 * Fields InstantPay adds later are kept (masked).
 */
export const LinkActivitySchema = z.looseObject({
  status: z.string(),
  activityAt: z.string(),
  orderId: z.string().nullish(),
  accountType: z.string().nullish(),
  accountNumber: z.string().nullish(),
  accountIfsc: z.string().nullish(),
});
export type LinkActivity = z.infer<typeof LinkActivitySchema>;
