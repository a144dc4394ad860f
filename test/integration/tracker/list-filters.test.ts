import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { LinkQueries } from '#shared/store/link-queries.ts';
import { linkKey } from '#shared/store/link-store.ts';
import { countCalls } from '#test/support/sdk-call-counter.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

const clock = new ManualClock(Date.parse('2026-03-02T10:00:00Z'));
let world: Awaited<ReturnType<typeof trackerFixture>>;
/** Links by role, created once for the file. */
const ids: Record<'watched' | 'unwatched' | 'claimed' | 'processing' | 'plain', string> = {} as never;

const idsOf = (response: { body: { links: Array<{ linkId: string }> } }) =>
  response.body.links.map((link) => link.linkId);

async function register(linkId: string, reference?: string) {
  const response = await world.call('POST', '/links', {
    body: { linkId, ...(reference === undefined ? {} : { reference }) },
  });
  expect(response.status).toBe(201);
}

/** Every page of a listing, following its cursors. */
async function allPages(query: string): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const response = await world.call('GET', '/links', {
      query: `${query}&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    });
    expect(response.status).toBe(200);
    seen.push(...idsOf(response));
    cursor = response.body.nextCursor;
    if (cursor === null) return seen;
  }
  throw new Error('the cursors never ended');
}

beforeAll(async () => {
  world = await trackerFixture({ clock });
  const issued = [{ afterMs: 0, status: 'ISSUED' }];
  ids.watched = world.sandbox.createLink({ linkId: 'filter-a-watched', amount: 1, timeline: issued });
  ids.unwatched = world.sandbox.createLink({ linkId: 'filter-b-unwatched', amount: 2, timeline: issued });
  ids.claimed = world.sandbox.createLink({
    linkId: 'filter-c-claimed',
    amount: 3,
    timeline: [{ afterMs: 0, status: 'CLAIMED' }],
  });
  ids.processing = world.sandbox.createLink({
    linkId: 'filter-d-processing',
    amount: 4,
    timeline: [{ afterMs: 0, status: 'PROCESSING' }],
  });
  ids.plain = world.sandbox.createLink({ linkId: 'filter-e-plain', amount: 5, timeline: issued });
  await register(ids.watched, 'INV-42');
  await register(ids.unwatched, 'INV-7');
  await register(ids.claimed, 'INV-42');
  await register(ids.processing, 'INV-7');
  await register(ids.plain);
  expect((await world.call('DELETE', `/links/${ids.unwatched}`)).status).toBe(204);
});

afterAll(async () => {
  await world?.close();
});

describe('GET /links filters', () => {
  it('lists by InstantPay status alone, whatever the list state: idle first, then watching, each by link id', async () => {
    const response = await world.call('GET', '/links', { query: 'status=ISSUED' });
    expect(response.status).toBe(200);
    expect(idsOf(response)).toEqual([ids.unwatched, ids.watched, ids.plain]);
    expect(response.body.nextCursor).toBeNull();
    expect(response.body.links.every((link: { status: string }) => link.status === 'ISSUED')).toBe(true);
  });

  it('narrows a status or a reference to a list state', async () => {
    expect(idsOf(await world.call('GET', '/links', { query: 'status=ISSUED&state=watching' }))).toEqual([
      ids.watched,
      ids.plain,
    ]);
    expect(idsOf(await world.call('GET', '/links', { query: 'status=ISSUED&state=final' }))).toEqual([]);
    expect(idsOf(await world.call('GET', '/links', { query: 'reference=INV-42&state=final' }))).toEqual([
      ids.claimed,
    ]);
  });

  it('lists by the exact reference alone', async () => {
    expect(idsOf(await world.call('GET', '/links', { query: 'reference=INV-42' })).sort()).toEqual(
      [ids.claimed, ids.watched].sort(),
    );
    expect(idsOf(await world.call('GET', '/links', { query: 'reference=INV-4' }))).toEqual([]);
    expect(idsOf(await world.call('GET', '/links', { query: 'reference=inv-42' }))).toEqual([]);
  });

  it('keeps the state listing as it was: watching by default', async () => {
    const watching = idsOf(await world.call('GET', '/links'));
    expect(watching).toEqual(expect.arrayContaining([ids.watched, ids.processing, ids.plain]));
    expect(watching).not.toContain(ids.unwatched);
    expect(watching).not.toContain(ids.claimed);
  });

  it('pages a filtered listing with an opaque cursor, each link once', async () => {
    expect(await allPages('status=ISSUED')).toEqual([ids.unwatched, ids.watched, ids.plain]);
    expect((await allPages('reference=INV-7')).sort()).toEqual([ids.processing, ids.unwatched].sort());
  });

  it('refuses a cursor of another listing, or an altered one, with a 400 naming the cursor', async () => {
    const first = await world.call('GET', '/links', { query: 'status=ISSUED&limit=1' });
    const cursor = encodeURIComponent(first.body.nextCursor);
    const stateCursor = encodeURIComponent(
      (await world.call('GET', '/links', { query: 'state=watching&limit=1' })).body.nextCursor,
    );
    const altered = encodeURIComponent(
      Buffer.from(
        JSON.stringify({
          ...JSON.parse(Buffer.from(first.body.nextCursor, 'base64url').toString()),
          f: 'AAAAAAAAAAAAAAAA',
        }),
      ).toString('base64url'),
    );
    for (const query of [
      `status=PROCESSING&cursor=${cursor}`,
      `status=ISSUED&state=watching&cursor=${cursor}`,
      `reference=INV-42&cursor=${cursor}`,
      `state=watching&cursor=${cursor}`,
      `status=ISSUED&cursor=${stateCursor}`,
      `status=ISSUED&cursor=${altered}`,
    ]) {
      const response = await world.call('GET', '/links', { query });
      expect(response.status, query).toBe(400);
      expect(response.body.errors).toEqual(['cursor: invalid']);
    }
  });

  it('answers 400 to an undocumented status, and to a status and a reference together', async () => {
    const unknown = await world.call('GET', '/links', { query: 'status=ON_HOLD' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0]).toMatch(/^status: /);
    const both = await world.call('GET', '/links', { query: 'status=ISSUED&reference=INV-42' });
    expect(both.status).toBe(400);
    expect(both.body.errors).toEqual([
      'reference: cannot be combined with status: use one of them, with state if needed',
    ]);
    const long = await world.call('GET', '/links', { query: `reference=${'x'.repeat(129)}` });
    expect(long.status).toBe(400);
  });

  it('follows the item: a new reference, or a new status, moves the link between listings', async () => {
    const linkId = world.sandbox.createLink({
      linkId: 'filter-f-moving',
      amount: 6,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 1_000, status: 'PROCESSING' },
      ],
    });
    await register(linkId, 'INV-100');
    expect(idsOf(await world.call('GET', '/links', { query: 'reference=INV-100' }))).toEqual([linkId]);
    const again = await world.call('POST', '/links', { body: { linkId, reference: 'INV-101' } });
    expect(again.status).toBe(200);
    expect(idsOf(await world.call('GET', '/links', { query: 'reference=INV-100' }))).toEqual([]);
    expect(idsOf(await world.call('GET', '/links', { query: 'reference=INV-101' }))).toEqual([linkId]);

    clock.advance(1_000);
    expect((await world.call('GET', `/links/${linkId}`)).body.status).toBe('PROCESSING');
    expect(idsOf(await world.call('GET', '/links', { query: 'status=ISSUED' }))).not.toContain(linkId);
    expect(idsOf(await world.call('GET', '/links', { query: 'status=PROCESSING' }))).toContain(linkId);
  });

  it('reads an index, never the table: a Query and a BatchGet per page, no Scan', async () => {
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const calls = countCalls(client);
    const queries = new LinkQueries({ tableName: world.names.table, client });
    const page = await queries.listLinks({ status: 'ISSUED', state: 'watching' }, 10);
    expect(page.links.map((link) => link.linkId)).toEqual([ids.watched, ids.plain]);
    expect(Object.fromEntries(calls)).toEqual({ QueryCommand: 1, BatchGetItemCommand: 1 });
  });

  it('gives a link written before the status index its key at its next unchanged check', async () => {
    const linkId = world.sandbox.createLink({
      linkId: 'filter-g-old',
      amount: 7,
      timeline: [{ afterMs: 0, status: 'ISSUED' }],
    });
    await register(linkId);
    // As the item was before this release: no linkStatus, no listKey (and, as always, no null attribute).
    const stored = (await world.store.getLink(linkId))!;
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const item: Record<string, unknown> = {
      ...linkKey(linkId),
      type: 'link',
      ...stored,
      activityCount: stored.activity.length,
      listState: 'watching',
      dueShard: 'due#000',
    };
    for (const [key, value] of Object.entries(item)) if (value === null) delete item[key];
    await documents.send(new PutCommand({ TableName: world.names.table, Item: item }));
    const version = stored.version;
    expect(idsOf(await world.call('GET', '/links', { query: 'status=ISSUED' }))).not.toContain(linkId);
    await world.call('GET', `/links/${linkId}`);
    // The unchanged check's one conditional write (version + 1), not a rewrite of the whole item.
    expect((await world.store.getLink(linkId))?.version).toBe(version + 1);
    expect(idsOf(await world.call('GET', '/links', { query: 'status=ISSUED&state=watching' }))).toContain(
      linkId,
    );
  });
});
