import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CredentialsProviderError } from '@smithy/core/config';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { CliDeps, Io } from '#infra/cli/command.ts';
import { COMMANDS, runCli } from '#infra/cli/main.ts';
import { regionOfApiUrl } from '#infra/cli/target.ts';

function io(env: NodeJS.ProcessEnv = {}) {
  const out = { stdout: '', stderr: '' };
  const streams: Io = {
    stdout: { write: (chunk: string) => (out.stdout += chunk) },
    stderr: { write: (chunk: string) => (out.stderr += chunk), isTTY: false } as unknown as Io['stderr'],
    env,
  };
  return { streams, out };
}

async function cli(argv: string[], deps: CliDeps = {}, env: NodeJS.ProcessEnv = {}) {
  const { streams, out } = io(env);
  const code = await runCli(argv, streams, deps);
  return { code, ...out };
}

type Handler = (request: {
  method: string;
  url: URL;
  body?: string;
  headers: Headers;
}) => Response | Promise<Response>;

/** A fetch that records requests and answers from `handler`. */
function fakeFetch(handler: Handler) {
  const requests: Array<{ method: string; url: URL; headers: Headers; body?: string }> = [];
  const fetch = (async (input: string | URL, init?: RequestInit) => {
    const request = {
      method: init?.method ?? 'GET',
      url: new URL(String(input)),
      headers: new Headers(init?.headers),
      ...(typeof init?.body === 'string' ? { body: init.body } : {}),
    };
    requests.push(request);
    return handler(request);
  }) as typeof globalThis.fetch;
  return { fetch, requests };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const problem = (status: number, title: string, detail: string, headers: Record<string, string> = {}) =>
  json(
    status,
    { type: 'urn:x', title, status, detail },
    { 'content-type': 'application/problem+json', ...headers },
  );

const view = (linkId: string, extra: Record<string, unknown> = {}) => ({
  linkId,
  status: 'ISSUED',
  final: false,
  amount: 500,
  activity: [],
  sequence: 1,
  firstSeenAt: '2026-01-01T00:00:00.000Z',
  lastCheckedAt: '2026-01-01T00:00:00.000Z',
  nextCheckAt: '2026-01-01T00:01:00.000Z',
  checks: 1,
  upstream: { statuscode: 'TXN', ipayUuid: 'u1', environment: 'LIVE', timestamp: '2026-01-01 05:30:00' },
  ...extra,
});

const LOCAL = ['--local', '--api-url', 'http://127.0.0.1:9'];
const credentials = async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' });

describe('payout-link-tracker: help and usage', () => {
  it('lists every subcommand with --help (exit 0), and on stderr with no command (exit 2)', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const name of [
      'track',
      'watch',
      'unwatch',
      'events',
      'list',
      'import',
      'redrive',
      'replay',
      'rotate-webhook-secret',
    ]) {
      expect(help.stdout).toContain(`  ${name}`);
    }
    expect(help.stdout).not.toContain('  webhook-secret');
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: payout-link-tracker <command>');
  });

  it.each(COMMANDS.map((command) => command.name))(
    '%s --help describes the command and its options',
    async (name) => {
      const { code, stdout } = await cli([name, '--help']);
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: payout-link-tracker ${name}`));
      expect(stdout).toContain('--json');
      expect(stdout).toContain('--stage S');
      expect((await cli(['help', name])).stdout).toBe(stdout);
    },
  );

  it.each([
    [['trak', 'x'], 'Unknown command "trak": use one of track, watch'],
    [['track'], 'track needs <linkId>'],
    [['track', 'a', 'b'], 'track takes at most 1 <linkId>'],
    [['list', '--bogus'], "Unknown option '--bogus' (see payout-link-tracker list --help)"],
    [['list', '--state', 'done', ...LOCAL], '--state must be one of watching, final, idle'],
    [['list', '--limit', '0', ...LOCAL], '--limit must be a whole number from 1 to 100'],
    [
      ['list', '--status', 'ON_HOLD', ...LOCAL],
      '--status must be one of ISSUED, PROCESSING, CLAIMED, CANCELLED, EXPIRED',
    ],
    [['list', '--reference', 'x'.repeat(129), ...LOCAL], '--reference must be 1 to 128 characters'],
    [
      ['list', '--status', 'ISSUED', '--reference', 'INV-42', ...LOCAL],
      '--status and --reference cannot be combined',
    ],
    [['track', 'x', '--max-age', 'soon', ...LOCAL], '--max-age must be a whole number from 0 to 86400'],
    [['track', 'x', '--stage', 'nope'], 'Unknown stage "nope": use one of local, dev, staging, prod.'],
    [
      ['track', 'x', '--local', '--stage', 'prod'],
      '--local is the local stage; it cannot be combined with --stage prod',
    ],
    [['track', 'x', '--api-url', 'not a url'], 'The API URL "not a url" is not a URL'],
    [['replay', '--from', 'x', '--to', 'y'], '--from and --to must be ISO 8601 times'],
    [
      ['replay', '--from', '2026-01-02T00:00:00Z', '--to', '2026-01-01T00:00:00Z'],
      '--from must be before --to',
    ],
    [['redrive', '--stage', 'prod'], '--subscriber NAME is required'],
    [
      ['redrive', '--stage', 'prod', '--subscriber', 'nobody'],
      'Stage prod has no subscriber nobody (it has: merchant-ledger)',
    ],
    [['redrive', '--local', '--subscriber', 'local-sink'], 'set AWS_ENDPOINT_URL'],
    [
      ['webhook-secret', '--subscriber', 'merchant-ledger', '--stage', 'prod'],
      'Say --rotate to start a rotation',
    ],
  ])('%j is a usage error (exit 2, one line)', async (argv, message) => {
    const { code, stdout, stderr } = await cli(argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('payout-link-tracker: the API commands (fake API)', () => {
  it('track shows the link as fields, or the API view with --json', async () => {
    const api = fakeFetch(() => json(200, view('l1', { reference: 'inv-7' })));
    const table = await cli(['track', 'l1', '--max-age', '60', ...LOCAL], { fetch: api.fetch });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^linkId\s+l1$/m);
    expect(table.stdout).toMatch(/^status\s+ISSUED$/m);
    expect(table.stdout).toMatch(/^reference\s+inv-7$/m);
    expect(api.requests[0]?.url.href).toBe('http://127.0.0.1:9/links/l1?maxAgeSeconds=60');
    expect(api.requests[0]?.headers.has('authorization')).toBe(false);
    const machine = await cli(['track', 'l1', '--json', ...LOCAL], { fetch: api.fetch });
    expect(JSON.parse(machine.stdout)).toEqual(view('l1', { reference: 'inv-7' }));
  });

  it('prints the problem title, detail and status when the API refuses (exit 1)', async () => {
    const api = fakeFetch(() => problem(404, 'Link not found', 'InstantPay does not know this link.'));
    const { code, stdout, stderr } = await cli(['track', 'l1', ...LOCAL], { fetch: api.fetch });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'payout-link-tracker: The API refused the request: HTTP 404 Link not found: InstantPay does not know this link.\n',
    );
  });

  it('watch registers each link, tells created from known, and exits 1 when one failed', async () => {
    const api = fakeFetch(({ body }) => {
      const { linkId } = JSON.parse(body ?? '{}') as { linkId: string };
      if (linkId === 'gone') return problem(404, 'Link not found', 'InstantPay does not know this link.');
      return json(linkId === 'old' ? 200 : 201, view(linkId));
    });
    const { code, stdout, stderr } = await cli(
      ['watch', 'new', 'old', 'gone', '--reference', 'batch-1', ...LOCAL],
      {
        fetch: api.fetch,
      },
    );
    expect(code).toBe(1);
    expect(stdout).toMatch(/^created\s+new\s+ISSUED/m);
    expect(stdout).toMatch(/^known\s+old\s+ISSUED/m);
    expect(stderr).toContain('watch gone: The API refused the request: HTTP 404 Link not found');
    expect(JSON.parse(api.requests[0]?.body ?? '{}')).toEqual({ linkId: 'new', reference: 'batch-1' });
  });

  it('list --all follows nextCursor to the end; without it, says there is more', async () => {
    const api = fakeFetch(({ url }) => {
      const cursor = url.searchParams.get('cursor');
      if (!cursor) return json(200, { links: [view('a'), view('b')], nextCursor: 'c1' });
      if (cursor === 'c1') return json(200, { links: [view('c')], nextCursor: 'c2' });
      return json(200, { links: [view('d')], nextCursor: null });
    });
    const all = await cli(['list', '--all', '--state', 'final', '--json', ...LOCAL], { fetch: api.fetch });
    expect(all.code).toBe(0);
    const page = JSON.parse(all.stdout) as { links: Array<{ linkId: string }>; nextCursor: null };
    expect(page.links.map((link) => link.linkId)).toEqual(['a', 'b', 'c', 'd']);
    expect(page.nextCursor).toBeNull();
    expect(api.requests.map((request) => request.url.search)).toEqual([
      '?state=final&limit=100',
      '?state=final&limit=100&cursor=c1',
      '?state=final&limit=100&cursor=c2',
    ]);
    const first = await cli(['list', ...LOCAL], { fetch: api.fetch });
    expect(first.stdout).toMatch(/^linkId\s+status\s+final\s+amount/);
    expect(first.stderr).toBe('More links: --cursor c1 for the next page, or --all.\n');
  });

  it('list --status and --reference ask GET /links for that status or reference, in any state unless --state says', async () => {
    const api = fakeFetch(() => json(200, { links: [view('a')], nextCursor: null }));
    const byStatus = await cli(['list', '--status', 'issued', '--json', ...LOCAL], { fetch: api.fetch });
    const byReference = await cli(['list', '--reference', 'INV 42/x', ...LOCAL], { fetch: api.fetch });
    const narrowed = await cli(['list', '--status', 'CLAIMED', '--state', 'final', ...LOCAL], {
      fetch: api.fetch,
    });
    expect([byStatus.code, byReference.code, narrowed.code]).toEqual([0, 0, 0]);
    expect(JSON.parse(byStatus.stdout).links[0].linkId).toBe('a');
    expect(api.requests.map((request) => request.url.search)).toEqual([
      '?status=ISSUED',
      '?reference=INV%2042%2Fx',
      '?state=final&status=CLAIMED',
    ]);
    const none = fakeFetch(() => json(200, { links: [], nextCursor: null }));
    const empty = await cli(['list', '--reference', 'INV-42', ...LOCAL], { fetch: none.fetch });
    expect(empty.stdout).toBe('No "INV-42" links.\n');
  });

  it('list --all stops on a cursor that repeats', async () => {
    const api = fakeFetch(() => json(200, { links: [view('a')], nextCursor: 'same' }));
    const { code, stderr } = await cli(['list', '--all', ...LOCAL], { fetch: api.fetch });
    expect(code).toBe(1);
    expect(stderr).toContain('returned the cursor same twice');
  });

  it('unwatch and events', async () => {
    const api = fakeFetch(({ method }) =>
      method === 'DELETE'
        ? new Response(null, { status: 204 })
        : json(200, {
            linkId: 'l1',
            events: [
              {
                detailType: 'Payout Link Status Changed',
                publishedAt: '2026-01-01T00:00:01.000Z',
                eventId: 'e1',
                sequence: 1,
                previousStatus: null,
                status: 'ISSUED',
                observedAt: '2026-01-01T00:00:00.000Z',
                trigger: 'on-demand',
              },
            ],
          }),
    );
    expect((await cli(['unwatch', 'l1', ...LOCAL], { fetch: api.fetch })).stdout).toBe(
      'No longer watching l1 (its history is kept).\n',
    );
    expect(
      JSON.parse((await cli(['unwatch', 'l1', '--json', ...LOCAL], { fetch: api.fetch })).stdout),
    ).toEqual({
      linkId: 'l1',
      watching: false,
    });
    const events = await cli(['events', 'l1', ...LOCAL], { fetch: api.fetch });
    expect(events.stdout).toMatch(/^\s*1\s+\(new\) -> ISSUED\s+2026-01-01T00:00:00.000Z\s+on-demand/m);
  });
});

describe('payout-link-tracker import (fake API)', () => {
  async function importFile(name: string, text: string, handler: Handler, extra: string[] = []) {
    const dir = await mkdtemp(join(tmpdir(), 'cli-main-'));
    const file = join(dir, name);
    await writeFile(file, text);
    const api = fakeFetch(handler);
    const result = await cli(['import', file, ...extra, ...LOCAL], { fetch: api.fetch });
    return { ...result, file, dir, requests: api.requests };
  }

  it('retries a busy API, records refusals, and writes the failed rows', async () => {
    let busy = 1;
    const { code, stdout, stderr, file, requests } = await importFile(
      'links.csv',
      'linkId,reference\nok-1,a\nbusy-1,b\ngone-1,c\nbad id,d\nok-1,dup\n',
      ({ body }) => {
        const { linkId } = JSON.parse(body ?? '{}') as { linkId: string };
        if (linkId === 'busy-1' && busy-- > 0)
          return problem(503, 'InstantPay is unavailable', 'Later.', { 'retry-after': '0' });
        if (linkId === 'gone-1') return problem(404, 'Link not found', 'InstantPay does not know this link.');
        return json(201, view(linkId));
      },
    );
    expect(code).toBe(1);
    expect(requests.map((request) => JSON.parse(request.body ?? '{}').linkId).sort()).toEqual([
      'busy-1',
      'busy-1',
      'gone-1',
      'ok-1',
    ]);
    expect(stdout).toContain('Imported');
    expect(stdout).toMatch(/created\s+2/);
    expect(stdout).toMatch(/already known\s+0/);
    expect(stdout).toMatch(new RegExp(`failed\\s+3 \\(rows and reasons in ${file}\\.failed\\.csv\\)`));
    expect(stderr).toContain('[##############################] 3/3');
    expect(await readFile(`${file}.failed.csv`, 'utf8')).toBe(
      [
        'row,linkId,expiresAt,reference,error',
        '4,gone-1,,c,The API refused the request: HTTP 404 Link not found: InstantPay does not know this link.',
        '5,bad id,,d,"linkId: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -"',
        '6,ok-1,,dup,linkId: a duplicate of row 2',
        '',
      ].join('\r\n'),
    );
  });

  it('stops at once when the API refuses the signature for every row', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-main-'));
    const file = join(dir, 'links.json');
    await writeFile(file, JSON.stringify([{ linkId: 'a' }, { linkId: 'b' }, { linkId: 'c' }]));
    const api = fakeFetch(() => json(403, { message: 'Forbidden' }));
    const { code, stderr } = await cli(
      ['import', file, '--concurrency', '1', '--api-url', 'https://abc.execute-api.ap-south-1.amazonaws.com'],
      { fetch: api.fetch, credentials },
    );
    expect(code).toBe(1);
    expect(api.requests).toHaveLength(1);
    expect(stderr).toContain(
      'the API refused the signed request: check the IAM policy allows execute-api:Invoke',
    );
  });

  it('--json prints the summary; --failed-out chooses the failure file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-main-'));
    const out = join(dir, 'why.csv');
    const { code, stdout } = await importFile(
      'links.json',
      '{"links":[{"linkId":"k1"},{"linkId":"k2","expiresAt":"soon"}]}',
      () => json(200, view('k1')),
      ['--json', '--failed-out', out],
    );
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ rows: 2, created: 0, known: 1, failed: 1, failedFile: out });
    expect(await readFile(out, 'utf8')).toContain('2,k2,soon,,expiresAt: must be an ISO 8601');
  });

  it('refuses a file it cannot read as a whole (exit 2), importing nothing', async () => {
    const { code, stderr, requests } = await importFile('links.csv', 'id,ref\nx,y\n', () => json(201, {}));
    expect(code).toBe(2);
    expect(stderr).toContain('header with a linkId column');
    expect(requests).toHaveLength(0);
  });
});

describe('payout-link-tracker: the deployed API (signed)', () => {
  const cloudFormation = mockClient(CloudFormationClient);
  afterEach(() => cloudFormation.reset());

  it('signs with SigV4 for execute-api in the region of the API URL', async () => {
    const api = fakeFetch(() => json(200, view('l1')));
    const { code } = await cli(
      ['track', 'l1', '--stage', 'prod'],
      { fetch: api.fetch, credentials },
      {
        PAYOUT_LINK_TRACKER_API_URL: 'https://abc123.execute-api.ap-south-1.amazonaws.com/',
      },
    );
    expect(code).toBe(0);
    expect(api.requests[0]?.headers.get('authorization')).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/ap-south-1\/execute-api\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/,
    );
  });

  it('finds the URL in the ApiUrl output of PayoutLinkTracker-<stage>', async () => {
    cloudFormation.on(DescribeStacksCommand, { StackName: 'PayoutLinkTracker-staging' }).resolves({
      Stacks: [
        {
          StackName: 'PayoutLinkTracker-staging',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'ApiUrl', OutputValue: 'https://xyz.execute-api.eu-west-1.amazonaws.com/' }],
        },
      ],
    });
    const api = fakeFetch(() => json(200, { links: [], nextCursor: null }));
    const { code, stdout } = await cli(['list', '--stage', 'staging'], {
      fetch: api.fetch,
      credentials,
      cloudFormation: () => new CloudFormationClient({ region: 'eu-west-1' }),
    });
    expect(code).toBe(0);
    expect(stdout).toBe('No watching links.\n');
    expect(api.requests[0]?.url.origin).toBe('https://xyz.execute-api.eu-west-1.amazonaws.com');
    expect(api.requests[0]?.headers.get('authorization')).toContain('/eu-west-1/execute-api/aws4_request');
  });

  it('says when the stage has no stack', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('Stack with id PayoutLinkTracker-dev does not exist'), {
        name: 'ValidationError',
      }),
    );
    const { code, stderr } = await cli(['track', 'l1'], {
      credentials,
      cloudFormation: () => new CloudFormationClient({ region: 'ap-south-1' }),
    });
    expect(code).toBe(1);
    expect(stderr).toBe(
      'payout-link-tracker: There is no stack PayoutLinkTracker-dev in ap-south-1: deploy it (npx cdk deploy -c stage=dev), or give --api-url or PAYOUT_LINK_TRACKER_API_URL.\n',
    );
  });

  it('says how to give credentials when the chain has none', async () => {
    const { code, stderr } = await cli(
      ['track', 'l1', '--api-url', 'https://abc.execute-api.ap-south-1.amazonaws.com'],
      {
        credentials: async () => {
          throw new CredentialsProviderError('Could not load credentials from any providers', {
            tryNextLink: false,
          });
        },
        fetch: fakeFetch(() => json(200, {})).fetch,
      },
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^payout-link-tracker: No AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/,
    );
  });

  it('reads the region from an execute-api URL, not from a custom domain', () => {
    expect(regionOfApiUrl('https://abc123.execute-api.ap-south-1.amazonaws.com/')).toBe('ap-south-1');
    expect(regionOfApiUrl('https://api.example.com/')).toBeUndefined();
  });
});

describe('payout-link-tracker: control characters in API data never reach the terminal raw', () => {
  // Clear screen, colour, an OSC 8 link and an OSC title, C1 CSI and OSC, backspace, carriage return,
  // DEL, and the bidi overrides and isolates that reorder what is shown (Trojan Source).
  const HOSTILE =
    '\x1b[2J\x1b[31mred\x1b]8;;https://evil.example\x07click\x1b]8;;\x07\x1b]0;pwned\x07' +
    '\x9b31m\x9d0;title\x9c\b\rover\x7f\u202eevil\u202c\u2066iso\u2069\u2067\u2068\u202a\u202b\u202d';
  /** What a terminal acts on: C0 but the newline that ends our lines, DEL, C1 (all \p{Cc}), bidi controls. */
  const RAW_CONTROL = /(?!\n)\p{Cc}|[\u202a-\u202e\u2066-\u2069]/u;

  const hostileView = (linkId: string) =>
    view(linkId, {
      status: `ON_HOLD${HOSTILE}`,
      reference: `INV-1${HOSTILE}`,
      metadata: { [`key${HOSTILE}`]: `value${HOSTILE}` },
      activity: [
        {
          status: `Payout link created${HOSTILE}`,
          activityAt: `2026-01-01 05:30:00${HOSTILE}`,
          orderId: `1231212092131KTMDF${HOSTILE}`,
          accountType: 'ACCOUNT',
          accountNumber: `XXXXXXXXXXXX5742${HOSTILE}`,
          accountIfsc: `YESB0CMSNOC${HOSTILE}`,
        },
      ],
      upstream: { statuscode: `TXN${HOSTILE}`, ipayUuid: HOSTILE, environment: 'LIVE', timestamp: HOSTILE },
    });

  it('track shows every field, the metadata and the activity with control characters escaped', async () => {
    const api = fakeFetch(() => json(200, hostileView('l1')));
    const { code, stdout, stderr } = await cli(['track', 'l1', ...LOCAL], { fetch: api.fetch });

    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW_CONTROL);
    expect(stderr).toBe('');
    expect(stdout).toMatch(
      /^reference\s+INV-1\\x1b\[2J\\x1b\[31mred\\x1b\]8;;https:\/\/evil\.example\\x07click/m,
    );
    expect(stdout).toContain('\\u202eevil\\u202c');
    expect(stdout).toContain('Payout link created\\x1b[2J');
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(15); // 11 fields, "activity", its header, rule, entry
  });

  it('track --json escapes C1, DEL and bidi controls as \\uXXXX and loses nothing', async () => {
    const api = fakeFetch(() => json(200, hostileView('l1')));
    const { code, stdout } = await cli(['track', 'l1', '--json', ...LOCAL], { fetch: api.fetch });

    expect(code).toBe(0);
    expect(stdout).not.toMatch(RAW_CONTROL);
    expect(stdout).toContain('\\u009b31m');
    expect(stdout).toContain('\\u202eevil');
    expect(JSON.parse(stdout)).toEqual(hostileView('l1'));
  });

  it('events, list and watch tables, and the cursor hint, escape control characters', async () => {
    const api = fakeFetch(({ method, url }) => {
      if (method === 'POST') return json(201, hostileView('w1'));
      if (url.pathname.endsWith('/events'))
        return json(200, {
          linkId: 'l1',
          events: [
            {
              detailType: 'Payout Link Status Changed',
              publishedAt: HOSTILE,
              eventId: `e1${HOSTILE}`,
              sequence: 1,
              previousStatus: `ISSUED${HOSTILE}`,
              status: `CLAIMED${HOSTILE}`,
              observedAt: HOSTILE,
              trigger: `scheduled${HOSTILE}`,
            },
          ],
        });
      return json(200, { links: [hostileView('a'), hostileView('b')], nextCursor: `c1${HOSTILE}` });
    });

    for (const argv of [['events', 'l1'], ['list'], ['watch', 'w1']]) {
      const { code, stdout, stderr } = await cli([...argv, ...LOCAL], { fetch: api.fetch });
      expect(code).toBe(0);
      expect(stdout).not.toMatch(RAW_CONTROL);
      expect(stderr).not.toMatch(RAW_CONTROL);
      expect(stdout).toContain('\\x1b[2J');
    }
    const listed = await cli(['list', ...LOCAL], { fetch: api.fetch });
    expect(listed.stderr).toMatch(/^More links: --cursor c1\\x1b\[2J\S* for the next page, or --all\.\n$/);
    const machine = await cli(['list', '--json', ...LOCAL], { fetch: api.fetch });
    expect(machine.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(machine.stdout).nextCursor).toBe(`c1${HOSTILE}`);
  });

  it("escapes the API's refusals: problem title, detail and errors, and API Gateway's message", async () => {
    const refusals = [
      json(
        400,
        { type: 'urn:x', title: `Bad${HOSTILE}`, status: 400, detail: HOSTILE, errors: [`a${HOSTILE}`] },
        { 'content-type': 'application/problem+json' },
      ),
      json(403, { message: `Forbidden${HOSTILE}` }),
      new Response(`<html>${HOSTILE}</html>`, { status: 502 }),
    ];
    for (const refusal of refusals) {
      const api = fakeFetch(() => refusal.clone());
      for (const argv of [
        ['track', 'l1'],
        ['watch', 'l1', 'l2'],
        ['unwatch', 'l1'],
      ]) {
        const { code, stdout, stderr } = await cli([...argv, ...LOCAL], { fetch: api.fetch });
        expect(code).toBe(1);
        expect(stdout).toBe('');
        expect(stderr).not.toMatch(RAW_CONTROL);
        // As sent, escaped here or by the JSON quoting of API Gateway's message.
        expect(stderr).toMatch(/\\(x1b|u001b)\[2J/);
      }
    }
  });

  it('import shows and writes the reasons for failed rows escaped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-main-'));
    const file = join(dir, 'links.json');
    await writeFile(file, JSON.stringify([{ linkId: 'a' }, { linkId: 'b' }]));
    const api = fakeFetch(() => problem(404, `Link not found${HOSTILE}`, HOSTILE));
    const { code, stdout, stderr } = await cli(['import', file, ...LOCAL], { fetch: api.fetch });

    expect(code).toBe(1);
    expect(stdout).not.toMatch(RAW_CONTROL);
    expect(stderr).not.toMatch(RAW_CONTROL);
    expect(stdout).toContain('Link not found\\x1b[2J');
    const failed = await readFile(`${file}.failed.csv`, 'utf8');
    expect(failed.replaceAll('\r\n', '\n')).not.toMatch(RAW_CONTROL);
    expect(failed).toContain('Link not found\\x1b[2J');
  });
});
