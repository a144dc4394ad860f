import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApi } from '#functions/track-link/app.ts';
import { armFault, type FaultHandle } from '#infra/local/emulator-faults.ts';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';
import { instantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import { EventPublisher } from '#shared/events/event-publisher.ts';
import { createInstantPayClient } from '#shared/instantpay/client.ts';
import { runRecheck } from '#shared/recheck/recheck-run.ts';
import { LinkQueries } from '#shared/store/link-queries.ts';
import { LinkStore } from '#shared/store/link-store.ts';
import { SweepQueries } from '#shared/store/sweep-queries.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { LinkRequests } from '#shared/tracker/link-requests.ts';
import { FINAL_MINUTE, registerAll, runSchedule } from '#test/support/ledger.ts';
import { recheckOptions } from '#test/support/recheck-options.ts';
import { TcpProxy } from '#test/support/tcp-proxy.ts';
import { apiCaller } from '#test/support/tracker-fixture.ts';
import { report, scenarioFile, scenarioWorld, sleep } from './scenario.ts';

const clock = new ManualClock(Date.parse('2026-12-02T10:00:00Z'));
const file = scenarioFile(clock);
const { logs } = file;

/** A document client of its own, as the store builds it (the SDK's own retries included). */
function documentClient(config: DynamoDBClientConfig) {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

describe('reliability: AWS failing under the tracker', () => {
  it('3. DynamoDB throttles the transactions for a while: nothing half-written, the work is retried later', {
    timeout: 240_000,
  }, async () => {
    const { world, links, ledger } = await scenarioWorld('ddb-throttled', { sandbox: file.sandbox, clock });
    logs.add(world.log.lines);
    await registerAll(world.call, links);
    const K = 50;
    const probed = links.filter((link) => link.kind.name === 'cancelled').slice(0, 3);

    let throttle: FaultHandle | undefined;
    onTestFinished(async () => {
      await throttle?.clear();
    });

    const runs = await runSchedule({
      clock,
      tracker: world.tracker,
      store: world.sweep,
      ledger,
      log: world.log.logger,
      before: async (minute) => {
        if (minute !== FINAL_MINUTE) return;
        // From now on, the next K transactions on the table fail as DynamoDB's do when throttling
        // outlasts the SDK's own retries: ProvisionedThroughputExceededException on every attempt,
        // on the wire. Everything else is served.
        throttle = await armFault({
          tables: [world.names.table],
          operations: 'TransactWriteItems',
          error: 'ProvisionedThroughputExceededException',
          count: K,
          retries: 'faulted',
        });
        // On-demand checks while throttled: a retryable 503, the stored status untouched.
        for (const link of probed) {
          const response = await world.call('GET', `/links/${link.linkId}`);
          expect(response.status).toBe(503);
          expect(response.headers['retry-after']).toBe('2');
          expect(response.body).toMatchObject({
            type: 'urn:payout-link-tracker:problem:dependency-unavailable',
          });
        }
      },
      after: async (minute, run) => {
        if (minute !== FINAL_MINUTE) return;
        expect(await throttle?.read()).toMatchObject({
          calls: K,
          injected: K * AWS_CLIENT_CONFIG.maxAttempts,
        });
        expect(run.summary?.otherErrors).toBe(K - probed.length);
        expect(run.summary?.transitionsRecorded).toBe(links.length - (K - probed.length));
        // Nothing half-written: each link's sequence equals its change items, right after the faults.
        expect(await ledger.halfWritten()).toEqual([]);
        // The throttled links kept their last recorded status (every link really changed this
        // minute) and stay due: no per-link claim holds them, so the next run takes them.
        const items = await ledger.linkItems();
        const stuck = links
          .map((link) => ({ link, item: items.get(link.linkId)! }))
          .filter(({ link, item }) => item.sequence !== link.expected.length);
        expect(stuck).toHaveLength(K - probed.length);
        for (const { link, item } of stuck) {
          expect(item.status).toBe(link.expected.at(-2)!.status);
          expect(item.nextCheckAt).toBeLessThanOrEqual(clock.now());
        }
      },
    });
    expect(runs.map((run) => run.error).filter(Boolean)).toEqual([]);
    // Retried by the very next run, and recorded then.
    const retry = runs.find((run) => run.minute === FINAL_MINUTE + 1);
    expect(retry?.summary?.transitionsRecorded).toBe(K - probed.length);
    const ledgerReport = await ledger.verify();
    report('3-dynamodb-throttled', ledgerReport, runs, { throttled: (await throttle?.read())?.calls });
    await world.close();
  });

  it('4. the AWS endpoint unreachable for a few seconds mid-run: calls fail within their timeouts, nothing half-written, the work is retried', {
    timeout: 240_000,
  }, async () => {
    const { world, links, ledger } = await scenarioWorld('aws-unreachable', { sandbox: file.sandbox, clock });
    logs.add(world.log.lines);
    // Every AWS client of the tracker goes through a TCP proxy in front of the emulator; the
    // harness (ledger, fixture) keeps its direct clients. The emulator itself is never restarted.
    const proxy = await TcpProxy.start(process.env.AWS_ENDPOINT_URL!);
    onTestFinished(() => proxy.close());
    const viaProxy = { ...AWS_CLIENT_CONFIG, endpoint: proxy.url };
    const tableOptions = { tableName: world.names.table, client: documentClient(viaProxy) };
    const store = new LinkStore(tableOptions);
    const sweep = new SweepQueries(tableOptions);
    const tracker = createTracker(world.config, {
      store,
      publisher: new EventPublisher({
        eventBusName: world.names.bus,
        client: new EventBridgeClient(viaProxy),
      }),
      upstream: createInstantPayClient({
        credentials: instantPayCredentials({
          secretName: world.names.secret,
          client: new SecretsManagerClient(viaProxy),
        }),
        timeoutMs: world.config.upstreamTimeoutMs,
        clock,
      }),
      clock,
      log: world.log.logger,
      random: () => 0.5,
    });
    const requests = new LinkRequests({ tracker, store, queries: new LinkQueries(tableOptions) });
    const call = apiCaller(createApi(requests, world.log.logger));
    await registerAll(call, links);
    const probes: Array<{ phase: string; status: number; type: string; ms: number }> = [];
    const probe = async (phase: string, linkId: string) => {
      const started = Date.now();
      const response = await call('GET', `/links/${linkId}`);
      probes.push({ phase, status: response.status, type: response.body?.type, ms: Date.now() - started });
    };
    const probeLinks = links.filter((link) => link.kind.name === 'cancelled');

    /** A second into the run: refused for 2 s, then accepted and cut for 2 s, then back. */
    async function outage() {
      await sleep(1_000);
      await proxy.refuse();
      await Promise.all([probe('refused', probeLinks[0]!.linkId), sleep(2_000)]);
      await proxy.reset();
      await Promise.all([probe('reset', probeLinks[1]!.linkId), sleep(2_000)]);
      await proxy.forward();
    }

    const runs = await runSchedule({
      clock,
      tracker,
      store: sweep,
      ledger,
      log: world.log.logger,
      run: async (minute) => {
        const running = runRecheck({ tracker, store: sweep, log: world.log.logger }, recheckOptions());
        if (minute !== FINAL_MINUTE) return running;
        const cut = outage();
        try {
          return await running;
        } finally {
          await cut;
          // Workers of a run that failed finish (or fail) on their own once the network is back.
          await sleep(1_000);
        }
      },
      after: async (minute, run) => {
        if (minute !== FINAL_MINUTE) return;
        expect(proxy.resets).toBeGreaterThan(0);
        // The run failed (a Lambda error) or counted its failed checks; either way nothing is half-written.
        expect(run.error !== undefined || (run.summary?.otherErrors ?? 0) > 0).toBe(true);
        expect(await ledger.halfWritten()).toEqual([]);
      },
    });
    // The on-demand calls during the outage failed fast with a retryable 503, not a hang.
    expect(probes.map(({ phase, status, type }) => ({ phase, status, type }))).toEqual([
      { phase: 'refused', status: 503, type: 'urn:payout-link-tracker:problem:dependency-unavailable' },
      { phase: 'reset', status: 503, type: 'urn:payout-link-tracker:problem:dependency-unavailable' },
    ]);
    // Not a timing figure: a bound far above the SDK's timeouts (3 s to connect, 5 s a request, 3
    // attempts) and far below a hang (the API's 30 s), so a busy machine cannot make it flaky.
    for (const { ms } of probes) expect(ms).toBeLessThan(25_000);
    const ledgerReport = await ledger.verify();
    report('4-aws-unreachable', ledgerReport, runs, { probes, resets: proxy.resets });
    await world.close();
  });

  it('logged nothing secret or personal', () => {
    expect(logs.lineCount).toBeGreaterThan(0);
    logs.expectClean();
  });
});
