import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventSchemas, openApiDocument } from '#infra/schemas/published-schemas.ts';
import { diffObservation } from '#shared/link/diff-observation.ts';
import { LinkEventDetailSchema } from '#shared/link/link-event.schema.ts';
import { type LinkState, newLinkState } from '#shared/link/link-state.ts';
import { isFinal } from '#shared/link/link-status.ts';
import { LinkViewSchema } from '#shared/link/link-view.schema.ts';
import { toLinkView } from '#shared/link/link-view.ts';
import { LINK_ID, observation, SAMPLE_ACTIVITY, storedState, T0 } from './fixtures.ts';

const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The states a link goes through: registered, watched, final, given up on, failing. */
const STATES: Record<string, LinkState> = {
  registered: newLinkState(LINK_ID, T0),
  watched: storedState({ nextCheckAt: T0 + HOUR, reference: 'INV-7', metadata: { order: '42' } }),
  final: storedState({ status: 'CLAIMED', activity: SAMPLE_ACTIVITY, sequence: 2, nextCheckAt: null }),
  'given up': storedState({
    nextCheckAt: null,
    watchEnded: { reason: 'upstream-errors', at: T0 },
    failingSince: T0 - 7 * 24 * HOUR,
    lastError: { error: 'LinkNotFoundError', statuscode: 'ITI', at: T0 },
  }),
  failing: storedState({ consecutiveErrors: 2, lastError: { error: 'UpstreamUnavailableError', at: T0 } }),
};

describe('toLinkView', () => {
  it('shows a registered, never observed link: no status, not final, nothing checked, not watched', () => {
    expect(toLinkView(newLinkState(LINK_ID, T0))).toStrictEqual({
      linkId: LINK_ID,
      status: null,
      final: false,
      amount: null,
      activity: [],
      sequence: 0,
      firstSeenAt: null,
      lastCheckedAt: null,
      nextCheckAt: null,
      checks: 0,
      upstream: null,
    });
  });

  it('shows a watched link with its times in ISO 8601 and its registration fields', () => {
    const state = STATES.watched!;

    expect(toLinkView(state)).toStrictEqual({
      linkId: LINK_ID,
      status: 'ISSUED',
      final: false,
      amount: 120.11,
      activity: SAMPLE_ACTIVITY.slice(0, 2),
      sequence: 1,
      firstSeenAt: iso(state.firstSeenAt!),
      lastCheckedAt: iso(state.lastCheckedAt!),
      nextCheckAt: iso(T0 + HOUR),
      checks: 1,
      reference: 'INV-7',
      metadata: { order: '42' },
      upstream: state.upstream,
    });
  });

  it('says a link is final exactly when its status is', () => {
    for (const status of ['ISSUED', 'PROCESSING', 'CLAIMED', 'CANCELLED', 'EXPIRED', 'ON_HOLD'])
      expect(toLinkView(storedState({ status })).final, status).toBe(isFinal(status));
  });

  it('shows why watching ended and the last error, with its statuscode only when InstantPay gave one', () => {
    expect(toLinkView(STATES['given up']!)).toMatchObject({
      nextCheckAt: null,
      watchEnded: { reason: 'upstream-errors', at: iso(T0) },
      lastError: { error: 'LinkNotFoundError', statuscode: 'ITI', at: iso(T0) },
    });
    expect(toLinkView(STATES.failing!).lastError).toStrictEqual({
      error: 'UpstreamUnavailableError',
      at: iso(T0),
    });
    expect(toLinkView(STATES.failing!)).not.toHaveProperty('watchEnded');
  });
});

describe('the published link contracts', () => {
  it('describe every view the API shows, field for field', () => {
    for (const [name, state] of Object.entries(STATES)) {
      const view = toLinkView(state);
      expect(LinkViewSchema.parse(view), name).toStrictEqual(view);
    }
  });

  it('describe every event detail the tracker records, field for field', () => {
    const details = [
      diffObservation(null, observation(), { trigger: 'on-demand', stage: 'prod' }),
      diffObservation(STATES.watched!, observation({ status: 'CLAIMED', activity: SAMPLE_ACTIVITY }), {
        trigger: 'scheduled',
        stage: 'prod',
      }),
    ].flatMap((result) => (result.kind === 'changed' ? result.changes.map((change) => change.detail) : []));

    expect(details).toHaveLength(2);
    for (const detail of details) expect(LinkEventDetailSchema.parse(detail)).toStrictEqual(detail);
  });

  it('rule out what the tracker never shows: negative counts, sequence 0 in an event, unknown reasons and triggers', () => {
    const view = toLinkView(STATES['given up']!);
    const [detail] = (() => {
      const result = diffObservation(null, observation(), { trigger: 'scheduled', stage: 'prod' });
      return result.kind === 'changed' ? result.changes.map((change) => change.detail) : [];
    })();

    for (const bad of [
      { ...view, sequence: -1 },
      { ...view, checks: -1 },
      { ...view, watchEnded: { reason: 'deleted', at: iso(T0) } },
    ])
      expect(LinkViewSchema.safeParse(bad).success).toBe(false);
    for (const bad of [
      { ...detail, sequence: 0 },
      { ...detail, trigger: 'manual' },
    ])
      expect(LinkEventDetailSchema.safeParse(bad).success).toBe(false);
  });

  it('are committed as the link schemas generate them: the OpenAPI LinkView and the event JSON Schemas', () => {
    const committed = (path: string) =>
      JSON.parse(readFileSync(new URL(`../../../docs/${path}`, import.meta.url), 'utf8'));
    const components = (document: unknown) =>
      (document as { components: { schemas: Record<string, unknown> } }).components.schemas;

    expect(components(openApiDocument()).LinkView).toEqual(components(committed('openapi.json')).LinkView);
    for (const name of ['payout-link-status-changed', 'payout-link-activity-added'])
      expect(eventSchemas()[name]).toEqual(committed(`schemas/${name}.json`));
  });
});
