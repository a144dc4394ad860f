import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type ProblemResponse, problem, problemFor } from '#shared/http/problem.ts';
import {
  describeProblems,
  fieldPath,
  illFormedPath,
  isWellFormed,
  LinkIdSchema,
  ListQuerySchema,
  MAX_BODY_BYTES,
  RegisterLinkBodySchema,
  ResendBodySchema,
  SubscriberNameSchema,
  TrackQuerySchema,
} from '#shared/http/requests.ts';
import { toLinkView } from '#shared/link/link-view.ts';
import type { Log } from '#shared/observability/log.ts';
import type { LinkRequests } from '#shared/tracker/link-requests.ts';
import { InvalidRequestError } from '#shared/tracker/tracker-errors.ts';
import type { DeliveryAdmin } from '#shared/webhooks/delivery-admin.ts';
import * as z from '#shared/zod.ts';

type Response = APIGatewayProxyStructuredResultV2;

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

interface RouteRequest {
  event: APIGatewayProxyEventV2;
  /** The path's parameters, each checked by its parser ({@link PARAMETERS}). */
  params: Record<string, string>;
}

interface Route {
  method: string;
  /** `/links/{linkId}/events`: literal segments and `{parameters}`. */
  path: string;
  handle: (request: RouteRequest) => Promise<Response>;
}

/** How each path parameter is checked: a malformed one is a 400 whatever the method. */
const PARAMETERS: Record<string, (segment: string) => string> = {
  linkId: parseLinkId,
  name: parseSubscriberName,
};

/**
 * The `track-link` API as a plain function of an HTTP API (payload v2) event: route (a table of
 * routes), validate, call the core, map the result or the error. The Lambda handler and the local
 * cloud both use it. Without `deliveries` (a caller that only tracks links) the delivery routes are absent.
 */
export function createApi(tracker: LinkRequests, log: Log, deliveries?: DeliveryAdmin) {
  const routes: Route[] = [
    { method: 'GET', path: '/links', handle: ({ event }) => listLinks(event) },
    { method: 'POST', path: '/links', handle: ({ event }) => registerLink(event) },
    {
      method: 'GET',
      path: '/links/{linkId}',
      handle: async ({ event, params }) => {
        const query = parse(TrackQuerySchema, event.queryStringParameters ?? {}, 'query');
        return json(200, toLinkView(await tracker.trackNow(params.linkId!, query.maxAgeSeconds)));
      },
    },
    {
      method: 'DELETE',
      path: '/links/{linkId}',
      handle: async ({ params }) => {
        await tracker.unwatch(params.linkId!);
        return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
      },
    },
    {
      method: 'GET',
      path: '/links/{linkId}/events',
      handle: async ({ params }) => {
        const linkId = params.linkId!;
        const events = await tracker.events(linkId);
        return json(200, {
          linkId,
          events: events.map((change) => ({
            detailType: change.detailType,
            publishedAt: change.publishedAt === null ? null : new Date(change.publishedAt).toISOString(),
            ...change.detail,
          })),
        });
      },
    },
    ...(deliveries ? deliveryRoutes(deliveries) : []),
  ];

  return async function handle(event: APIGatewayProxyEventV2): Promise<Response> {
    let linkId: string | undefined;
    try {
      const method = event.requestContext.http.method.toUpperCase();
      const segments = pathSegments(event);
      rejectIllFormedQuery(event);
      const matching = routes
        .map((route) => ({ route, params: matchPath(route.path, segments) }))
        .filter((candidate): candidate is { route: Route; params: Record<string, string> } =>
          Boolean(candidate.params),
        );
      if (matching.length === 0) {
        return problemResponse({
          problem: problem(404, 'not-found', 'Not found', 'There is no such route.'),
        });
      }
      const params: Record<string, string> = {};
      for (const [name, segment] of Object.entries(matching[0]!.params)) {
        params[name] = PARAMETERS[name]!(segment);
        if (name === 'linkId') linkId = params[name];
      }
      const route = matching.find((candidate) => candidate.route.method === method)?.route;
      if (!route) return methodNotAllowed(matching.map((candidate) => candidate.route.method));
      return await route.handle({ event, params });
    } catch (error) {
      const response = problemFor(error, linkId);
      const attributes = { linkId, status: response.problem.status, error: errorSummary(error) };
      if (response.problem.status >= 500) log.error('request failed', attributes);
      else log.info('request refused', attributes);
      return problemResponse(response);
    }
  };

  async function registerLink(event: APIGatewayProxyEventV2): Promise<Response> {
    const body = parse(RegisterLinkBodySchema, readJsonBody(event), 'body');
    const result = await tracker.register(body.linkId, {
      ...(body.expiresAt === undefined ? {} : { expiresAt: Date.parse(body.expiresAt) }),
      ...(body.reference === undefined ? {} : { reference: body.reference }),
      ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
    });
    return json(result.created ? 201 : 200, toLinkView(result.state));
  }

  async function listLinks(event: APIGatewayProxyEventV2): Promise<Response> {
    const query = parse(ListQuerySchema, event.queryStringParameters ?? {}, 'query');
    const page = await tracker.list(query.filter, query.limit, query.cursor);
    return json(200, { links: page.links.map(toLinkView), nextCursor: page.nextCursor });
  }
}

/** The Release 2 routes of webhook deliveries (`../shared/ARCHITECTURE.md`). */
function deliveryRoutes(deliveries: DeliveryAdmin): Route[] {
  return [
    {
      method: 'GET',
      path: '/links/{linkId}/deliveries',
      handle: async ({ params }) => json(200, await deliveries.deliveries(params.linkId!)),
    },
    {
      method: 'GET',
      path: '/subscribers',
      handle: async () => json(200, { subscribers: await deliveries.subscribers() }),
    },
    {
      method: 'POST',
      path: '/subscribers/{name}/resend',
      handle: async ({ event, params }) => {
        const body = parse(ResendBodySchema, readJsonBody(event), 'body');
        return json(202, await deliveries.resend(params.name!, body.eventIds));
      },
    },
    {
      method: 'POST',
      path: '/subscribers/{name}/enable',
      handle: async ({ params }) => json(200, await deliveries.enable(params.name!)),
    },
  ];
}

/** The path's parameters if the segments fit the route's path, else `undefined`. */
function matchPath(path: string, segments: readonly string[]): Record<string, string> | undefined {
  const parts = path.split('/').filter(Boolean);
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of parts.entries()) {
    const segment = segments[index]!;
    if (part.startsWith('{')) params[part.slice(1, -1)] = segment;
    else if (part !== segment) return undefined;
  }
  return params;
}

/** Path segments after any stage prefix, percent-decoded; a malformed escape is a 400. */
function pathSegments(event: APIGatewayProxyEventV2): string[] {
  let path = event.rawPath ?? '/';
  const stage = event.requestContext.stage;
  if (stage && stage !== '$default' && path.startsWith(`/${stage}/`)) path = path.slice(stage.length + 1);
  return path
    .split('/')
    .filter((segment) => segment.length > 0)
    .map((segment) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        throw new InvalidRequestError('The path is not valid percent-encoding.', ['path: malformed escape']);
      }
      if (!isWellFormed(decoded)) throw notWellFormed('The path', 'path');
      return decoded;
    });
}

/** Every query parameter, used by the route or not: none may carry a lone surrogate into the core. */
function rejectIllFormedQuery(event: APIGatewayProxyEventV2): void {
  for (const [key, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (!isWellFormed(key) || (value !== undefined && !isWellFormed(value)))
      throw notWellFormed('The query', fieldPath([key]));
  }
}

/** Text that is not well-formed UTF-16 (a lone surrogate) cannot be stored or published: a 400. */
function notWellFormed(where: string, path: string): InvalidRequestError {
  return new InvalidRequestError(`${where} must be well-formed Unicode text.`, [
    `${path}: not well-formed Unicode`,
  ]);
}

function parseSubscriberName(segment: string): string {
  const result = SubscriberNameSchema.safeParse(segment);
  if (!result.success) {
    throw new InvalidRequestError('The subscriber name must be 1 to 40 characters of a-z, 0-9 and -.', [
      'name: invalid',
    ]);
  }
  return result.data;
}

function parseLinkId(segment: string): string {
  const result = LinkIdSchema.safeParse(segment);
  if (!result.success) {
    throw new InvalidRequestError('The link id must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -.', [
      'linkId: invalid',
    ]);
  }
  return result.data;
}

function readJsonBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === null || event.body === '') {
    throw new InvalidRequestError('A JSON body is required.', ['(body): required']);
  }
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) {
    throw new InvalidRequestError(`The body must be at most ${MAX_BODY_BYTES} bytes.`, ['(body): too large']);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    throw new InvalidRequestError('The body must be UTF-8 JSON.', ['(body): not JSON']);
  }
  // UTF-8 bytes cannot hold a lone surrogate, but a JSON escape ("\\ud800") can.
  const illFormed = illFormedPath(parsed);
  if (illFormed) throw notWellFormed('Text in the body', fieldPath(illFormed));
  return parsed;
}

function parse<T>(schema: z.core.$ZodType<T>, input: unknown, where: string): T {
  const result = z.safeParse(schema, input);
  if (!result.success)
    throw new InvalidRequestError(`The ${where} is not valid.`, describeProblems(result.error));
  return result.data;
}

function json(statusCode: number, body: unknown): Response {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

function problemResponse({ problem: p, retryAfterSeconds }: ProblemResponse): Response {
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  };
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(Math.ceil(retryAfterSeconds));
  return { statusCode: p.status, headers, body: JSON.stringify(p) };
}

function methodNotAllowed(allow: string[]): Response {
  const response = problemResponse({
    problem: problem(405, 'method-not-allowed', 'Method not allowed', `Use ${allow.join(' or ')}.`),
  });
  return { ...response, headers: { ...response.headers, allow: allow.join(', ') } };
}

/** Names and messages of our own errors carry no secret or personal data; causes are not followed. */
function errorSummary(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: typeof error };
  const { statuscode, httpStatus } = error as { statuscode?: string; httpStatus?: number };
  return { name: error.name, message: error.message, statuscode, httpStatus };
}
