import { DOCUMENTED_STATUSES } from '#shared/link/link-status.ts';
import { LINK_ID_PATTERN } from '#shared/link-id.ts';
import type { LinkFilter } from '#shared/store/link-queries.ts';
import { SUBSCRIBER_NAME_PATTERN } from '#shared/webhooks/subscriber-name.ts';
import * as z from '#shared/zod.ts';

/**
 * Request shapes of the HTTP API (`../shared/ARCHITECTURE.md`), in zod/mini: the API validates with
 * them at run time, the CLI checks an import file with them, and `infra/schemas` publishes them.
 */

export const MAX_BODY_BYTES = 16 * 1024;

/** An event id (`eventIdFor`: a name-based UUID), any version, either case. */
const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const LinkIdSchema = z
  .string()
  .check(z.regex(LINK_ID_PATTERN, 'must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -'));

export const RegisterLinkBodySchema = z.strictObject({
  linkId: LinkIdSchema,
  expiresAt: z.optional(z.iso.datetime({ offset: true })),
  reference: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  metadata: z.optional(
    z
      .record(z.string().check(z.minLength(1), z.maxLength(64)), z.string().check(z.maxLength(256)))
      .check(z.refine((value) => Object.keys(value).length <= 20, 'at most 20 keys')),
  ),
});
export type RegisterLinkBody = z.infer<typeof RegisterLinkBodySchema>;

export const TrackQuerySchema = z.object({
  maxAgeSeconds: z.optional(
    z
      .pipe(z.string().check(z.regex(/^\d{1,6}$/, 'must be a whole number of seconds')), z.transform(Number))
      .check(z.refine((value) => value <= 86_400, 'must be at most 86400')),
  ),
});

export const LIST_STATES = ['watching', 'final', 'idle'] as const;

/** `GET /links`: a state (default `watching`), or a status or a reference, each alone or with a state. */
export const ListQuerySchema = z.pipe(
  z
    .object({
      state: z.optional(z.enum(LIST_STATES)),
      status: z.optional(z.enum(DOCUMENTED_STATUSES)),
      reference: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
      limit: z._default(
        z
          .pipe(
            z.string().check(z.regex(/^\d{1,3}$/, 'must be a whole number from 1 to 100')),
            z.transform(Number),
          )
          .check(z.refine((value) => value >= 1 && value <= 100, 'must be from 1 to 100')),
        25,
      ),
      cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
    })
    .check(
      z.refine((query) => query.status === undefined || query.reference === undefined, {
        message: 'cannot be combined with status: use one of them, with state if needed',
        path: ['reference'],
      }),
    ),
  z.transform(({ state, status, reference, limit, cursor }) => {
    const filter: LinkFilter =
      status !== undefined
        ? { status, ...(state === undefined ? {} : { state }) }
        : reference !== undefined
          ? { reference, ...(state === undefined ? {} : { state }) }
          : { state: state ?? 'watching' };
    return { filter, limit, cursor };
  }),
);

/** A subscriber's name in a path: the stage config's pattern (`shared/webhooks/subscriber.ts`). */
export const SubscriberNameSchema = z
  .string()
  .check(z.regex(SUBSCRIBER_NAME_PATTERN, 'must be 1 to 40 characters of a-z, 0-9 and -'));

/** Most event ids one resend takes. */
export const MAX_RESEND_EVENTS = 100;

/** `POST /subscribers/{name}/resend`: event ids as `GET /links/{linkId}/events` shows them (UUIDs). */
export const ResendBodySchema = z.strictObject({
  eventIds: z
    .array(z.string().check(z.regex(UUID_PATTERN, 'must be an event id (a UUID)')))
    .check(z.minLength(1), z.maxLength(MAX_RESEND_EVENTS)),
});
export type ResendBody = z.infer<typeof ResendBodySchema>;

/** Longest part of a field's path a problem shows, and most parts; the rest is cut. */
const MAX_PATH_PART = 32;
const MAX_PATH_PARTS = 6;
/** Unknown fields named in one problem; the others are counted. */
const MAX_UNKNOWN_NAMED = 5;

/**
 * Field-level problems, each `path: message`, without echoing the input: a path names keys the client
 * chose (an unknown field, a metadata key), so each part is cut to {@link MAX_PATH_PART} characters
 * and anything but A-Z a-z 0-9 _ - shows as `?`.
 */
export function describeProblems(error: z.core.$ZodError): string[] {
  return error.issues
    .flatMap((issue): string[] => {
      // zod's own message for unknown keys quotes every key in full.
      if (issue.code !== 'unrecognized_keys') return [`${fieldPath(issue.path)}: ${issue.message}`];
      const named = issue.keys
        .slice(0, MAX_UNKNOWN_NAMED)
        .map((key) => `${fieldPath([...issue.path, key])}: unknown field`);
      const more = issue.keys.length - named.length;
      return more > 0 ? [...named, `${fieldPath(issue.path)}: ${more} more unknown fields`] : named;
    })
    .slice(0, 10);
}

/** A field's path for a problem: parts joined with `.`, each cut short and reduced to safe characters. */
export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(body)';
  const shown = path
    .slice(0, MAX_PATH_PARTS)
    .map((part) => (typeof part === 'number' ? String(part) : safePart(String(part))));
  return `${shown.join('.')}${path.length > MAX_PATH_PARTS ? '...' : ''}`;
}

function safePart(part: string): string {
  if (part === '') return '(empty)';
  const units = [...part];
  const shown = units
    .slice(0, MAX_PATH_PART)
    .map((unit) => (/^[A-Za-z0-9_-]$/.test(unit) ? unit : '?'))
    .join('');
  return units.length > MAX_PATH_PART ? `${shown}...` : shown;
}

// A UTF-16 code unit of a pair without its other half: JSON's "\ud800" parses to one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether a string is well-formed UTF-16 (`String.prototype.isWellFormed`, ES2024). */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

interface Visit {
  value: unknown;
  key?: PropertyKey;
  parent?: Visit;
}

/**
 * The path of the first key or string in a parsed JSON value that is not well-formed UTF-16, or
 * `undefined` when all are. Iterative, and paths are built only for the answer: a 16 KB body can
 * nest thousands of levels deep.
 */
export function illFormedPath(value: unknown): PropertyKey[] | undefined {
  const pathOf = (visit: Visit | undefined, last?: PropertyKey): PropertyKey[] => {
    const path = last === undefined ? [] : [last];
    for (let at = visit; at?.key !== undefined; at = at.parent) path.unshift(at.key);
    return path;
  };
  const pending: Visit[] = [{ value }];
  while (pending.length > 0) {
    const visit = pending.pop()!;
    const current = visit.value;
    if (typeof current === 'string') {
      if (!isWellFormed(current)) return pathOf(visit);
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => {
        pending.push({ value: item, key: index, parent: visit });
      });
    } else if (current !== null && typeof current === 'object') {
      for (const [key, inner] of Object.entries(current)) {
        if (!isWellFormed(key)) return pathOf(visit, key);
        pending.push({ value: inner, key, parent: visit });
      }
    }
  }
  return undefined;
}
