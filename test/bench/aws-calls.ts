/**
 * AWS calls per on-demand check (issue 8): a warm container answering `GET /links/{id}` through the
 * real API (`createApi` over `createTracker`), the table, bus and InstantPay secret on the emulator,
 * the sandbox upstream. Every AWS SDK call is counted with an SDK middleware (`countCalls`) on every
 * client the check can reach:
 *  - DynamoDB: the module-level document client, `sharedDocumentClient()`, which the link store uses;
 *  - EventBridge: the client inside `EventPublisher`;
 *  - Secrets Manager: the client behind the InstantPay credentials (`instantPayCredentials`).
 * The EventBridge and Secrets Manager clients are built here and handed in (their module-level
 * defaults are private): the same classes with the same empty configuration as the defaults.
 *
 * A warm-up request first, so the secret is cached as in a warm container; then each link is
 * tracked once (its first GET records it) and the measured GET follows:
 *  - unchanged: the link's status has not moved since; the read (is it final? the Release 2
 *    contract answers a final link from the table, so this must be known before InstantPay is asked)
 *    and one conditional write that also moves `nextCheckAt`;
 *  - changed: the sandbox moved the link to `PROCESSING` in between; the read, then the
 *    transaction, the `PutEvents`, the publish mark;
 *  - final (issue 18): the link is `CLAIMED` and recorded so; the GET is the one read, and the
 *    InstantPay client (wrapped to count) is not called.
 */
import { randomUUID } from 'node:crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createApi } from '#functions/track-link/app.ts';
import { createBus, createTable, localClients, putSecret } from '#infra/local/aws-resources.ts';
import { httpApiEvent } from '#infra/local/http-api-event.ts';
import { SAMPLE_CREDENTIALS } from '#infra/sandbox/server.ts';
import { loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { instantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import { EventPublisher } from '#shared/events/event-publisher.ts';
import { createInstantPayClient } from '#shared/instantpay/client.ts';
import { silentLog } from '#shared/observability/log.ts';
import { LinkQueries } from '#shared/store/link-queries.ts';
import { LinkStore, sharedDocumentClient } from '#shared/store/link-store.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { LinkRequests } from '#shared/tracker/link-requests.ts';
import { countCalls } from '#test/support/sdk-call-counter.ts';
import { benchMoto } from './bench-moto.ts';
import { onCleanup, progress } from './cleanup.ts';
import { atMost, type Benchmark, type Figure } from './figures.ts';
import { startSandboxProcess } from './sandbox-process.ts';

const UNCHANGED_LINKS = 10;
const CHANGED_LINKS = 5;
/** When the sandbox moves a changed link to `PROCESSING`, after its creation. */
const MOVES_AFTER_MS = 2_000;

const FINAL_LINKS = 5;

// Was exactly 1 (the conditional write alone) until issue 18: a GET of a final link must not ask
// InstantPay (ARCHITECTURE.md, Release 2 contracts), so a GET reads the link first (docs/PERFORMANCE.md).
const UNCHANGED_TARGET = atMost(2);
const CHANGED_TARGET = atMost(4);
const FINAL_UPSTREAM_TARGET = atMost(0);
const FINAL_AWS_TARGET = atMost(1);
const UNCHANGED_LIMIT = 'the read (is it final?), one conditional write that also moves nextCheckAt';
const CHANGED_LIMIT = 'the read, transaction, PutEvents, publish mark';
const FINAL_UPSTREAM_LIMIT = 'a final status never changes: nothing to ask InstantPay';
const FINAL_AWS_LIMIT = 'the one read of the stored state';

/** Counts of every client, by command. */
type Counters = ReadonlyArray<Map<string, number>>;

function total(counters: Counters): number {
  let sum = 0;
  for (const counter of counters) for (const count of counter.values()) sum += count;
  return sum;
}

function byCommand(counters: Counters): string {
  const merged = new Map<string, number>();
  for (const counter of counters) {
    for (const [name, count] of counter) merged.set(name, (merged.get(name) ?? 0) + count);
  }
  return [...merged]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, count]) => `${name.replace(/Command$/, '')} ${count}`)
    .join(', ');
}

async function awsCallFigures(): Promise<Figure[]> {
  await benchMoto();
  const sandbox = await startSandboxProcess();
  const closeSandbox = onCleanup(() => sandbox.close());
  try {
    const clients = localClients();
    const id = randomUUID().slice(0, 8);
    const names = {
      table: `bench-calls-${id}`,
      bus: `payout-link-tracker-bench-${id}`,
      secret: `bench/instantpay/${id}`,
    };
    await createTable(clients, names.table);
    await createBus(clients, names.bus);
    await putSecret(clients, names.secret, {
      clientId: SAMPLE_CREDENTIALS.clientId,
      clientSecret: SAMPLE_CREDENTIALS.clientSecret,
      endpointIp: '127.0.0.1',
      baseUrl: sandbox.url,
    });

    const config = loadRuntimeConfig({
      STAGE: 'bench',
      TABLE_NAME: names.table,
      EVENT_BUS_NAME: names.bus,
      INSTANTPAY_SECRET_NAME: names.secret,
    });
    const eventBridge = new EventBridgeClient({});
    const secrets = new SecretsManagerClient({});
    const counters: Counters = [
      countCalls(sharedDocumentClient()),
      countCalls(eventBridge),
      countCalls(secrets),
    ];
    const reset = () => {
      for (const counter of counters) counter.clear();
      upstreamCalls = 0;
    };
    const instantPay = createInstantPayClient({
      credentials: instantPayCredentials({
        secretName: config.instantPaySecretName,
        maxAgeSeconds: config.secretMaxAgeSeconds,
        client: secrets,
      }),
      timeoutMs: config.upstreamTimeoutMs,
    });
    let upstreamCalls = 0;
    const store = new LinkStore({ tableName: config.tableName });
    const tracker = createTracker(config, {
      store,
      log: silentLog,
      upstream: {
        trackLink: (linkId) => {
          upstreamCalls++;
          return instantPay.trackLink(linkId);
        },
      },
      publisher: new EventPublisher({ eventBusName: config.eventBusName, client: eventBridge }),
    });
    const requests = new LinkRequests({
      tracker,
      store,
      queries: new LinkQueries({ tableName: config.tableName }),
    });
    const api = createApi(requests, silentLog);
    const get = async (
      linkId: string,
    ): Promise<{ status: string | null; calls: number; commands: string; upstream: number }> => {
      reset();
      const response = (await api(
        httpApiEvent({ method: 'GET', rawPath: `/links/${linkId}` }),
      )) as APIGatewayProxyStructuredResultV2;
      if (response.statusCode !== 200) {
        throw new Error(`GET /links/${linkId} answered ${response.statusCode}: ${response.body}`);
      }
      const view = JSON.parse(String(response.body)) as { status: string | null };
      return {
        status: view.status,
        calls: total(counters),
        commands: byCommand(counters),
        upstream: upstreamCalls,
      };
    };

    // A warm container: the secret fetched and cached, the clients' connections and endpoints set.
    const warmUp = await sandbox.createLink({ amount: 100, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    const cold = await get(warmUp);
    const warm = await get(warmUp);
    progress(`aws calls: warm-up, first GET ${cold.calls} calls (${cold.commands}), then ${warm.calls}`);

    progress(`aws calls: ${UNCHANGED_LINKS} unchanged links`);
    const unchanged: Array<{ calls: number; commands: string }> = [];
    for (let i = 0; i < UNCHANGED_LINKS; i++) {
      const linkId = await sandbox.createLink({ amount: 100, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
      await get(linkId);
      const measured = await get(linkId);
      if (measured.calls === 0) throw new Error('no AWS call counted: the counters are not on the path');
      unchanged.push(measured);
    }

    progress(`aws calls: ${CHANGED_LINKS} links that move to PROCESSING between two GETs`);
    const changing: Array<{ linkId: string; createdAt: number }> = [];
    for (let i = 0; i < CHANGED_LINKS; i++) {
      const linkId = await sandbox.createLink({
        amount: 100,
        timeline: [
          { afterMs: 0, status: 'ISSUED' },
          { afterMs: MOVES_AFTER_MS, status: 'PROCESSING' },
        ],
      });
      // Created by now: it moves at the latest `MOVES_AFTER_MS` from here.
      const createdAt = Date.now();
      const first = await get(linkId);
      if (first.status !== 'ISSUED') throw new Error(`link ${linkId} was ${first.status} at its first GET`);
      changing.push({ linkId, createdAt });
    }
    const latest = Math.max(...changing.map((link) => link.createdAt));
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, latest + MOVES_AFTER_MS + 100 - Date.now())),
    );
    const changed: Array<{ calls: number; commands: string }> = [];
    for (const { linkId } of changing) {
      const measured = await get(linkId);
      if (measured.status !== 'PROCESSING')
        throw new Error(`link ${linkId} did not move: ${measured.status}`);
      changed.push(measured);
    }

    progress(`aws calls: ${FINAL_LINKS} links recorded CLAIMED, then a GET of each`);
    const final: Array<{ calls: number; commands: string; upstream: number }> = [];
    for (let i = 0; i < FINAL_LINKS; i++) {
      const linkId = await sandbox.createLink({ amount: 100, timeline: [{ afterMs: 0, status: 'CLAIMED' }] });
      const first = await get(linkId);
      if (first.status !== 'CLAIMED') throw new Error(`link ${linkId} was ${first.status} at its first GET`);
      if (first.upstream === 0) throw new Error('no upstream call counted: the counter is not on the path');
      final.push(await get(linkId));
    }

    const worst = (checks: Array<{ calls: number; commands: string }>) =>
      checks.reduce((most, check) => (check.calls > most.calls ? check : most));
    const mean = (checks: Array<{ calls: number }>) =>
      checks.reduce((sum, check) => sum + check.calls, 0) / checks.length;
    const worstUnchanged = worst(unchanged);
    const worstChanged = worst(changed);
    return [
      {
        key: 'awsCallsPerCheck.unchanged',
        value: worstUnchanged.calls,
        unit: 'calls',
        target: UNCHANGED_TARGET,
        limit: UNCHANGED_LIMIT,
        note: `most of ${UNCHANGED_LINKS} warm GETs (mean ${mean(unchanged).toFixed(2)}): ${worstUnchanged.commands}; 1 before issue 18's read`,
      },
      {
        key: 'awsCallsPerCheck.changed',
        value: worstChanged.calls,
        unit: 'calls',
        target: CHANGED_TARGET,
        limit: CHANGED_LIMIT,
        note: `most of ${CHANGED_LINKS} warm GETs (mean ${mean(changed).toFixed(2)}): ${worstChanged.commands}`,
      },
      {
        key: 'upstreamCallsPerFinalGet',
        value: Math.max(...final.map((check) => check.upstream)),
        unit: 'calls',
        target: FINAL_UPSTREAM_TARGET,
        limit: FINAL_UPSTREAM_LIMIT,
        note: `most of ${FINAL_LINKS} warm GETs of CLAIMED links (InstantPay client wrapped to count)`,
      },
      {
        key: 'awsCallsPerFinalGet',
        value: worst(final).calls,
        unit: 'calls',
        target: FINAL_AWS_TARGET,
        limit: FINAL_AWS_LIMIT,
        note: `most of ${FINAL_LINKS} warm GETs of CLAIMED links (mean ${mean(final).toFixed(2)}): ${worst(final).commands}`,
      },
      {
        key: 'coldFirstGet',
        of: 'awsCallsPerCheck.unchanged',
        value: cold.calls,
        unit: 'calls',
        limit: 'the very first GET of the container (secret not cached yet), a new link',
        note: cold.commands,
      },
    ];
  } finally {
    await closeSandbox();
  }
}

export const awsCalls: Benchmark = {
  name: 'aws calls per check',
  figures: [
    { key: 'awsCallsPerCheck.unchanged', target: UNCHANGED_TARGET, limit: UNCHANGED_LIMIT, unit: 'calls' },
    { key: 'awsCallsPerCheck.changed', target: CHANGED_TARGET, limit: CHANGED_LIMIT, unit: 'calls' },
    {
      key: 'upstreamCallsPerFinalGet',
      target: FINAL_UPSTREAM_TARGET,
      limit: FINAL_UPSTREAM_LIMIT,
      unit: 'calls',
    },
    { key: 'awsCallsPerFinalGet', target: FINAL_AWS_TARGET, limit: FINAL_AWS_LIMIT, unit: 'calls' },
  ],
  run: awsCallFigures,
};
