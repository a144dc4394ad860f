import * as z from 'zod';

/**
 * An RFC 9457 problem; `linkId` where one applies. Never a stack trace, never an upstream body.
 * A published contract (the OpenAPI document's `Problem`): the API builds problems with `problem()`
 * and never parses one, so it imports only the type.
 */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    linkId: z.string().optional(),
    errors: z.array(z.string()).optional().describe('For 400: which fields are wrong and how'),
  })
  .meta({ title: 'Problem' });
export type Problem = z.infer<typeof ProblemSchema>;
