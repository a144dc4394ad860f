import * as z from '#shared/zod.ts';

/**
 * The documented shapes of a Track Link answer. Unknown extra fields are tolerated everywhere
 * (InstantPay adds fields without notice); an unknown link status is kept as it is.
 */

export const numeric = z.union([
  z.number(),
  z.pipe(z.string().check(z.regex(/^-?\d+(\.\d+)?$/)), z.transform(Number)),
]);

const ActivitySchema = z.looseObject({
  status: z.string(),
  activityAt: z.string(),
  orderId: z.nullish(z.string()),
  accountType: z.nullish(z.string()),
  accountNumber: z.nullish(z.string()),
  accountIfsc: z.nullish(z.string()),
});

export const TrackDataSchema = z.looseObject({
  status: z.string().check(z.minLength(1)),
  amount: numeric,
  linkActivity: z.pipe(
    z.nullish(z.array(ActivitySchema)),
    z.transform((entries) => entries ?? []),
  ),
});

export const EnvelopeSchema = z.looseObject({
  statuscode: z.string().check(z.minLength(1)),
  actcode: z.optional(z.unknown()),
  status: z.nullish(z.string()),
  data: z.optional(z.unknown()),
  timestamp: z.nullish(z.string()),
  ipay_uuid: z.nullish(z.string()),
  orderid: z.nullish(z.string()),
  environment: z.nullish(z.string()),
  internalCode: z.optional(z.unknown()),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** Where and what a schema mismatch is, without any value from the body (which carries personal data). */
export function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`)
    .join('; ');
}
