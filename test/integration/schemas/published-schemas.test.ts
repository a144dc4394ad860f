import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventSchemas } from '#infra/schemas/published-schemas.ts';
import { publishedFiles } from '#infra/schemas/write-schemas.ts';
import { webhookBody } from '#shared/webhooks/webhook-body.ts';
import { promised, validate } from '#test/support/openapi-contract.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

const ajv = new Ajv2020({ strict: false, allErrors: true });

let world: Awaited<ReturnType<typeof trackerFixture>>;
beforeAll(async () => {
  world = await trackerFixture();
});
afterAll(async () => {
  await world.close();
});

describe('published contracts', () => {
  it('are committed exactly as the zod schemas generate them (run `npm run schemas`)', () => {
    for (const [path, text] of Object.entries(publishedFiles())) {
      expect(readFileSync(path, 'utf8'), path).toBe(text);
    }
  });

  it('describe the real responses of the API', async () => {
    const linkId = world.sandbox.createLink({ amount: 40, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    promised(
      '/links',
      'post',
      201,
      await world.call('POST', '/links', { body: { linkId, reference: 'R-9', metadata: { a: 'b' } } }),
    );
    promised('/links', 'post', 200, await world.call('POST', '/links', { body: { linkId } }));
    promised('/links/{linkId}', 'get', 200, await world.call('GET', `/links/${linkId}`));
    promised('/links/{linkId}/events', 'get', 200, await world.call('GET', `/links/${linkId}/events`));
    promised('/links', 'get', 200, await world.call('GET', '/links', { query: 'state=watching' }));
    promised('/links/{linkId}', 'get', 400, await world.call('GET', '/links/bad%20id'));
    promised('/links/{linkId}', 'get', 404, await world.call('GET', '/links/0123456789abcdef01234567'));
    // A method no route has: the problem the document describes as a 405.
    const wrongMethod = await world.call('PUT', `/links/${linkId}`);
    expect(wrongMethod.status).toBe(405);
    validate('Problem', wrongMethod.body);
    promised('/links/{linkId}', 'delete', 204, await world.call('DELETE', `/links/${linkId}`));
  });

  it('describe the real events on the bus and the webhook bodies made from them', async () => {
    const linkId = world.sandbox.createLink({
      amount: 40,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 0, status: 'ISSUED', activity: [{ status: 'Reminder sent to 9876543210' }] },
      ],
    });
    await world.call('GET', `/links/${linkId}`);
    const events = await world.receiveEvents(2);
    const schemas = eventSchemas();
    const byType: Record<string, string> = {
      'Payout Link Status Changed': 'payout-link-status-changed',
      'Payout Link Activity Added': 'payout-link-activity-added',
    };
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      const check = ajv.compile(schemas[byType[event['detail-type']]!]!);
      expect(check(event), JSON.stringify(check.errors)).toBe(true);
      const body = JSON.parse(webhookBody(event['detail-type'], event.detail as never));
      const checkBody = ajv.compile(schemas['webhook-body']!);
      expect(checkBody(body), JSON.stringify(checkBody.errors)).toBe(true);
    }
  });
});
