import * as z from 'zod';

/**
 * The documented shapes of a Track Link answer. Unknown extra fields are tolerated everywhere
 * (InstantPay adds fields without notice); an unknown link status is kept as it is.
 */

const numeric = z.union([
  z.number().finite(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

export const ActivitySchema = z.looseObject({
  status: z.string(),
  activityAt: z.string(),
  orderId: z.string().nullish(),
  accountType: z.string().nullish(),
  accountNumber: z.string().nullish(),
  accountIfsc: z.string().nullish(),
});
export type LinkActivity = z.infer<typeof ActivitySchema>;

export const TrackDataSchema = z.looseObject({
  status: z.string().min(1),
  amount: numeric,
  linkActivity: z
    .array(ActivitySchema)
    .nullish()
    .transform((entries) => entries ?? []),
});

export const EnvelopeSchema = z.looseObject({
  statuscode: z.string().min(1),
  actcode: z.unknown().optional(),
  status: z.string().nullish(),
  data: z.unknown().optional(),
  timestamp: z.string().nullish(),
  ipay_uuid: z.string().nullish(),
  orderid: z.string().nullish(),
  environment: z.string().nullish(),
  internalCode: z.unknown().optional(),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

/** Where and what a schema mismatch is, without any value from the body (which carries personal data). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`)
    .join('; ');
}
