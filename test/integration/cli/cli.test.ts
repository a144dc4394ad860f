import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateArchiveCommand,
  DescribeEventBusCommand,
  ListArchivesCommand,
} from '@aws-sdk/client-eventbridge';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '#infra/cli/command.ts';
import { runCli } from '#infra/cli/main.ts';
import { createBus, createSubscriberRouting, createTable, putSecret } from '#infra/local/aws-resources.ts';
import { busName, LOCAL_TABLE_NAME } from '#shared/resource-names.ts';
import { SubscriberStateStore } from '#shared/webhooks/subscriber-state.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';
import { serveApi } from './api-server.ts';

// The CLI end to end against the real track-link API (real core, DynamoDB/EventBridge on moto, the
// InstantPay sandbox), served over loopback HTTP as the local cloud serves it.
let world: Awaited<ReturnType<typeof trackerFixture>>;
let server: Awaited<ReturnType<typeof serveApi>>;
let local: string[];

beforeAll(async () => {
  world = await trackerFixture();
  server = await serveApi(world.api);
  local = ['--local', '--api-url', server.url];
});
afterAll(async () => {
  await server?.close();
  await world?.close();
});

async function cli(argv: string[], env: NodeJS.ProcessEnv = process.env) {
  const out = { stdout: '', stderr: '' };
  const io: Io = {
    stdout: { write: (chunk: string) => (out.stdout += chunk) },
    stderr: { write: (chunk: string) => (out.stderr += chunk), isTTY: false } as unknown as Io['stderr'],
    env,
  };
  const code = await runCli(argv, io);
  return { code, ...out };
}

const issued = () => world.sandbox.createLink({ amount: 250, timeline: [{ afterMs: 0, status: 'ISSUED' }] });

describe('payout-link-tracker against the API', () => {
  it('watch, track, events, list, unwatch: one link through its life', async () => {
    const linkId = issued();
    const other = issued();

    const watched = await cli(['watch', linkId, other, '--reference', 'batch 1', ...local]);
    expect(watched).toMatchObject({ code: 0, stderr: '' });
    expect(watched.stdout).toMatch(
      new RegExp(`^created\\s+${linkId}\\s+ISSUED\\s+no\\s+250\\s+batch 1`, 'm'),
    );
    const again = await cli(['watch', linkId, '--json', ...local]);
    expect(JSON.parse(again.stdout)).toEqual([
      {
        linkId,
        created: false,
        link: expect.objectContaining({ linkId, status: 'ISSUED', reference: 'batch 1' }),
      },
    ]);

    const tracked = await cli(['track', linkId, ...local]);
    expect(tracked.code).toBe(0);
    expect(tracked.stdout).toMatch(new RegExp(`^linkId\\s+${linkId}$`, 'm'));
    expect(tracked.stdout).toMatch(/^status\s+ISSUED$/m);
    expect(tracked.stdout).toMatch(/^upstream\s+TXN/m);
    const trackedJson = JSON.parse(
      (await cli(['track', linkId, '--max-age', '3600', '--json', ...local])).stdout,
    );
    expect(trackedJson).toMatchObject({ linkId, status: 'ISSUED', final: false, amount: 250 });

    const history = await cli(['events', linkId, ...local]);
    expect(history.stdout).toMatch(/^#\s+change\s+observedAt\s+trigger\s+publishedAt\s+eventId$/m);
    expect(history.stdout).toMatch(/^1\s+\(new\) -> ISSUED\s+\S+\s+on-demand/m);
    const historyJson = JSON.parse((await cli(['events', linkId, '--json', ...local])).stdout);
    expect(historyJson.events).toEqual([
      expect.objectContaining({ detailType: 'Payout Link Status Changed', sequence: 1, status: 'ISSUED' }),
    ]);

    const watching = JSON.parse((await cli(['list', '--all', '--limit', '1', '--json', ...local])).stdout);
    expect(watching.links.map((link: { linkId: string }) => link.linkId)).toEqual(
      expect.arrayContaining([linkId, other]),
    );
    expect(watching.nextCursor).toBeNull();
    const byReference = JSON.parse(
      (await cli(['list', '--reference', 'batch 1', '--json', ...local])).stdout,
    );
    expect(byReference.links.map((link: { linkId: string }) => link.linkId)).toContain(linkId);
    const byStatus = JSON.parse(
      (await cli(['list', '--status', 'ISSUED', '--state', 'watching', '--all', '--json', ...local])).stdout,
    );
    expect(byStatus.links.map((link: { linkId: string }) => link.linkId)).toContain(linkId);
    const firstPage = await cli(['list', '--limit', '1', ...local]);
    expect(firstPage.stdout.split('\n')).toHaveLength(4); // header, rule, one link, end
    expect(firstPage.stderr).toMatch(/^More links: --cursor \S+ for the next page, or --all\.$/m);

    const stopped = await cli(['unwatch', linkId, ...local]);
    expect(stopped).toMatchObject({
      code: 0,
      stdout: `No longer watching ${linkId} (its history is kept).\n`,
    });
    const idle = JSON.parse((await cli(['list', '--state', 'idle', '--json', ...local])).stdout);
    expect(idle.links).toEqual([expect.objectContaining({ linkId, nextCheckAt: null })]);
  });

  it("shows the API's refusal: title, detail and status, exit 1", async () => {
    const invalid = await cli(['track', 'bad id!', ...local]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toBe(
      'payout-link-tracker: The API refused the request: HTTP 400 Invalid request: The link id must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -. [linkId: invalid]\n',
    );
    const unknown = await cli(['track', `nope${randomUUID().slice(0, 8)}`, ...local]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('HTTP 404 Link not found: InstantPay does not know this link.');
  });

  it('shows control characters from the API escaped: a reference, metadata and activity text', async () => {
    const hostile = '\x1b[2J\x1b]0;pwned\x07\x9b31m\u202eevil\u202c\u2066x\u2069\x7f';
    const raw = /(?!\n)\p{Cc}|[\u202a-\u202e\u2066-\u2069]/u;
    const linkId = world.sandbox.createLink({
      amount: 250,
      timeline: [{ afterMs: 0, status: 'ISSUED', activity: [{ status: `Payout link created${hostile}` }] }],
    });
    const dir = await mkdtemp(join(tmpdir(), 'cli-hostile-'));
    const file = join(dir, 'links.json');
    await writeFile(
      file,
      JSON.stringify([{ linkId, reference: `INV${hostile}`, metadata: { [`k${hostile}`]: hostile } }]),
    );
    expect((await cli(['import', file, ...local])).code).toBe(0);

    for (const argv of [
      ['track', linkId, '--max-age', '3600'],
      ['events', linkId],
      ['list', '--all'],
    ]) {
      const { code, stdout, stderr } = await cli([...argv, ...local]);
      expect(code).toBe(0);
      expect(stdout).not.toMatch(raw);
      expect(stderr).not.toMatch(raw);
    }
    const tracked = await cli(['track', linkId, '--max-age', '3600', ...local]);
    expect(tracked.stdout).toMatch(/^reference\s+INV\\x1b\[2J\\x1b\]0;pwned\\x07\\x9b31m\\u202eevil\\u202c/m);
    expect(tracked.stdout).toContain('Payout link created\\x1b[2J');

    const machine = await cli(['track', linkId, '--max-age', '3600', '--json', ...local]);
    expect(machine.stdout).not.toMatch(raw);
    expect(JSON.parse(machine.stdout)).toMatchObject({
      reference: `INV${hostile}`,
      metadata: { [`k${hostile}`]: hostile },
      activity: [expect.objectContaining({ status: `Payout link created${hostile}` })],
    });
  });

  it('import registers a CSV, writes the rows that failed and why, and exits 1', async () => {
    const [a, b, c] = [issued(), issued(), issued()];
    const unknownUpstream = `u${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const dir = await mkdtemp(join(tmpdir(), 'cli-import-'));
    const file = join(dir, 'links.csv');
    await writeFile(
      file,
      [
        'reference,linkId,expiresAt',
        `"Acme, Inc.",${a},2030-01-01T00:00:00Z`,
        `plain,${b},`,
        '',
        `"say ""hi""",${c},2030-01-01T05:30:00+05:30`,
        'broken,bad id!,',
        `late,${a}x,yesterday`,
        `gone,${unknownUpstream},`,
        `dup,${b},`,
        '',
      ].join('\r\n'),
    );
    const first = await cli(['import', file, ...local]);
    expect(first.code).toBe(1);
    expect(first.stdout).toBe(
      [
        `Imported ${file}: 7 rows`,
        '  created        3',
        '  already known  0',
        `  failed         4 (rows and reasons in ${file}.failed.csv)`,
        '  row 6 (bad id!): linkId: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -',
        `  row 7 (${a}x): expiresAt: must be an ISO 8601 date-time with Z or an offset (e.g. 2026-12-31T18:30:00Z)`,
        `  row 8 (${unknownUpstream}): The API refused the request: HTTP 404 Link not found: InstantPay does not know this link.`,
        `  row 9 (${b}): linkId: a duplicate of row 3`,
        '',
      ].join('\n'),
    );
    expect(first.stderr).toContain(`import ${file} [##############################] 4/4`);
    expect(await readFile(`${file}.failed.csv`, 'utf8')).toBe(
      [
        'row,linkId,expiresAt,reference,error',
        '6,bad id!,,broken,"linkId: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -"',
        `7,${a}x,yesterday,late,expiresAt: must be an ISO 8601 date-time with Z or an offset (e.g. 2026-12-31T18:30:00Z)`,
        `8,${unknownUpstream},,gone,The API refused the request: HTTP 404 Link not found: InstantPay does not know this link.`,
        `9,${b},,dup,linkId: a duplicate of row 3`,
        '',
      ].join('\r\n'),
    );
    const stored = JSON.parse((await cli(['track', a, '--max-age', '3600', '--json', ...local])).stdout);
    expect(stored).toMatchObject({ linkId: a, reference: 'Acme, Inc.' });
    expect(
      JSON.parse((await cli(['track', c, '--max-age', '3600', '--json', ...local])).stdout),
    ).toMatchObject({
      reference: 'say "hi"',
    });

    // Importing again is safe: what was registered is "already known".
    const again = await cli(['import', file, '--json', ...local]);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ rows: 7, created: 0, known: 3, failed: 4 });
  });

  it('import reads JSON and exits 0 when every row went in', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-import-'));
    const file = join(dir, 'links.json');
    const ids = [issued(), issued()];
    await writeFile(file, JSON.stringify(ids.map((linkId) => ({ linkId, metadata: { shop: 'blr-1' } }))));
    const { code, stdout } = await cli(['import', file, '--json', ...local]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      file,
      rows: 2,
      created: 2,
      known: 0,
      failed: 0,
      failedFile: null,
      failures: [],
    });
  });

  it('refuses an unknown stage, listing the stages (exit 2)', async () => {
    const { code, stderr } = await cli(['list', '--stage', 'qa']);
    expect(code).toBe(2);
    expect(stderr).toBe('payout-link-tracker: Unknown stage "qa": use one of local, dev, staging, prod.\n');
  });

  it('finds a deployed API through its stack output and signs every request (SigV4, execute-api)', async () => {
    const cloudFormation = new CloudFormationClient({});
    await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'PayoutLinkTracker-staging',
        TemplateBody: JSON.stringify({
          Resources: { Queue: { Type: 'AWS::SQS::Queue' } },
          Outputs: { ApiUrl: { Value: `${server.url}/` } },
        }),
      }),
    );
    const env = { ...process.env, PAYOUT_LINK_TRACKER_API_URL: '' };
    const linkId = issued();
    const signed = await cli(['watch', linkId, '--stage', 'staging', '--json'], env);
    expect(signed.code).toBe(0);
    expect(JSON.parse(signed.stdout)[0]).toMatchObject({ linkId, created: true });
    const request = server.received.at(-1)!;
    expect(request).toMatchObject({ method: 'POST', url: '/links' });
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=testing\/\d{8}\/ap-south-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );

    server.state.refuseSigned = true;
    try {
      const refused = await cli(['track', linkId, '--stage', 'staging'], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        'HTTP 403: the API refused the signed request: check the IAM policy allows execute-api:Invoke',
      );
    } finally {
      server.state.refuseSigned = false;
    }

    const noStack = await cli(['track', linkId, '--stage', 'prod'], env);
    expect(noStack.code).toBe(1);
    expect(noStack.stderr).toContain('There is no stack PayoutLinkTracker-prod in ap-south-1');
  });

  it('runs as the package bin: node infra/cli/bin.mjs, --json on stdout only', async () => {
    const run = promisify(execFile);
    const bin = join(import.meta.dirname, '../../../infra/cli/bin.mjs');
    const [listed, refused] = await Promise.all([
      run(process.execPath, [bin, 'list', '--json', ...local]),
      run(process.execPath, [bin, 'events', 'bad id!', ...local]).catch(
        (error: { code: number; stdout: string; stderr: string }) => error,
      ),
    ]);
    expect(JSON.parse(listed.stdout)).toHaveProperty('links');
    expect(listed.stderr).toBe('');
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toContain('HTTP 400 Invalid request');
  });
});

describe('payout-link-tracker operator commands on the emulator (--local)', () => {
  it('rotate-webhook-secret prints the new secret; the npm alias (webhook-secret --rotate) still works', async () => {
    const subscriber = `cli-${randomUUID().slice(0, 8)}`;
    await putSecret(world.clients, `payout-link-tracker/local/webhooks/${subscriber}`, { placeholder: true });
    const first = await cli(['rotate-webhook-secret', '--local', '--subscriber', subscriber, '--json']);
    expect(first.code).toBe(0);
    const rotated = JSON.parse(first.stdout);
    expect(rotated).toMatchObject({ stage: 'local', subscriber, previousValidUntil: null });
    expect(rotated.current).toMatch(/^whsec_/);
    const second = await cli(['webhook-secret', '--rotate', '--local', '--subscriber', subscriber]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^whsec_\S+\n$/);
    expect(second.stdout).not.toContain(rotated.current);
    expect(second.stderr).toMatch(/the previous secret keeps signing until \d{4}-/);
  });

  it('redrive moves the dead letters back, with a progress bar', async () => {
    const subscriber = `cli-${randomUUID().slice(0, 8)}`;
    const bus = busName('local');
    await createBus(world.clients, bus).catch((error: Error) => {
      if (!/AlreadyExists|ResourceExists/.test(error.name)) throw error;
    });
    const routing = await createSubscriberRouting(world.clients, {
      stage: 'local',
      busName: bus,
      subscriber: { name: subscriber },
    });
    for (let i = 0; i < 3; i++) {
      await world.clients.sqs.send(
        new SendMessageCommand({ QueueUrl: routing.deadLetterQueue.url, MessageBody: `{"i":${i}}` }),
      );
    }
    // The local stage's table, as `npm start` makes it, with the subscriber disabled by a 410.
    await createTable(world.clients, LOCAL_TABLE_NAME).catch((error: Error) => {
      if (error.name !== 'ResourceInUseException') throw error;
    });
    const state = new SubscriberStateStore(LOCAL_TABLE_NAME, { cacheMs: 0 });
    await state.set(subscriber, {
      disabled: true,
      disabledAt: '2026-11-25T10:00:00.000Z',
      reason: 'HTTP 410 Gone',
    });
    const { code, stdout, stderr } = await cli(['redrive', '--local', '--subscriber', subscriber, '--json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      stage: 'local',
      subscriber,
      moved: 3,
      method: 'receive-send-delete',
      previousState: { disabled: true, disabledAt: '2026-11-25T10:00:00.000Z', reason: 'HTTP 410 Gone' },
    });
    await expect(state.get(subscriber)).resolves.toEqual({ disabled: false });
    expect(stderr).toContain(`redrive ${subscriber} [##############################] 3/3`);
    const { Attributes } = await world.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: routing.queue.url,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    expect(Number(Attributes?.ApproximateNumberOfMessages)).toBe(3);
  });

  it('replay replays the bus archive of the local stage', async () => {
    const bus = busName('local');
    await createBus(world.clients, bus).catch((error: Error) => {
      if (!/AlreadyExists|ResourceExists/.test(error.name)) throw error;
    });
    const { Arn } = await world.clients.eventbridge.send(new DescribeEventBusCommand({ Name: bus }));
    const archives = await world.clients.eventbridge.send(new ListArchivesCommand({ EventSourceArn: Arn }));
    if (!archives.Archives?.length) {
      await world.clients.eventbridge.send(
        new CreateArchiveCommand({ ArchiveName: 'payout-link-tracker-local', EventSourceArn: Arn }),
      );
    }
    const replayed = await cli([
      'replay',
      '--local',
      '--from',
      new Date(Date.now() - 60_000).toISOString(),
      '--to',
      new Date().toISOString(),
    ]);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toMatch(
      /^Replay local-\S+ completed: sent to EVERY rule of the bus: every webhook subscriber and every other target\.\n$/,
    );
    // Without --subscriber, the operator is told every subscriber receives the window again.
    expect(replayed.stderr).toContain(
      'replay local: the window goes to EVERY rule of the bus: every webhook subscriber and every other target.',
    );
  });
});
