import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApi } from '#functions/track-link/app.ts';
import { putSecret } from '#infra/local/aws-resources.ts';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { SAMPLE_CREDENTIALS } from '#infra/sandbox/server.ts';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';
import { instantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import { createInstantPayClient } from '#shared/instantpay/client.ts';
import { keepAliveGet } from '#shared/instantpay/http-get.ts';
import { isFinal } from '#shared/link/link-status.ts';
import { createTracker } from '#shared/tracker/create-tracker.ts';
import { LinkRequests } from '#shared/tracker/link-requests.ts';
import { FINAL_MINUTE, registerAll, runSchedule } from '#test/support/ledger.ts';
import { countCalls } from '#test/support/sdk-call-counter.ts';
import { apiCaller } from '#test/support/tracker-fixture.ts';
import { report, scenarioFile, scenarioWorld } from './scenario.ts';

const clock = new ManualClock(Date.parse('2026-12-03T10:00:00Z'));
const file = scenarioFile(clock);
const { logs } = file;

const PROBLEM = 'urn:payout-link-tracker:problem:';
/** A key InstantPay no longer accepts (the sandbox accepts only the sample credentials). */
const REVOKED_SECRET = 'revoked-5f0c2a9e4b7d81c36a2e9f04d1b8c7e5a3f6d2b9c0e1f4a7';
/** The address the rotated secret carries, so its requests can be told apart. */
const ROTATED_ENDPOINT_IP = '10.9.8.7';

/** Per-link faults of the final minute, one kind per group of links (by index mod 8; 6 and 7 get none). */
const GROUP_FAULTS = [
  { kind: 'timeout', value: 3_500, expect: { status: 503, type: 'upstream-unavailable' } },
  {
    kind: 'malformed',
    value: '<html>Bad Gateway</html>',
    expect: { status: 502, type: 'upstream-bad-answer' },
  },
  { kind: 'statuscode', value: 'TUP', expect: { status: 503, type: 'upstream-unavailable' } },
  { kind: 'statuscode', value: 'SPD', expect: { status: 503, type: 'upstream-unavailable' } },
  { kind: 'statuscode', value: 'ZQX', expect: { status: 502, type: 'upstream-bad-answer' } },
  { kind: 'http-status', value: 500, expect: { status: 503, type: 'upstream-unavailable' } },
] as const;

describe('reliability: InstantPay failing', () => {
  it('5. 30 % HTTP 500, timeouts, non-JSON, TUP, SPD, an unknown statuscode and link status, rejected credentials then a rotation: nothing lost once the faults clear', {
    timeout: 240_000,
  }, async () => {
    // A shorter upstream timeout than the other scenarios, so the timeout faults cost less waiting.
    const { world, links, ledger } = await scenarioWorld(
      'upstream',
      { sandbox: file.sandbox, clock },
      {
        env: { UPSTREAM_TIMEOUT_MS: '3000' },
      },
    );
    logs.add(world.log.lines);
    logs.secret('the revoked InstantPay client secret', REVOKED_SECRET);
    onTestFinished(() => file.sandbox.clearFaults());
    // The tracker's own InstantPay client, to see which credentials each request carried and how
    // often the secret was read.
    const secrets = new SecretsManagerClient(AWS_CLIENT_CONFIG);
    const secretReads = countCalls(secrets);
    const sent: Array<{ clientSecret: string; endpointIp: string }> = [];
    const tracker = createTracker(world.config, {
      upstream: createInstantPayClient({
        credentials: instantPayCredentials({ secretName: world.names.secret, client: secrets }),
        timeoutMs: world.config.upstreamTimeoutMs,
        clock,
        httpGet: (url, headers, timeoutMs) => {
          sent.push({
            clientSecret: headers['X-Ipay-Client-Secret'] ?? '',
            endpointIp: headers['X-Ipay-Endpoint-Ip'] ?? '',
          });
          return keepAliveGet(url, headers, timeoutMs);
        },
      }),
      clock,
      log: world.log.logger,
      random: () => 0.5,
    });
    const call = apiCaller(
      createApi(new LinkRequests({ tracker, store: world.store, queries: world.queries }), world.log.logger),
    );
    await registerAll(call, links);
    const secretValue = (overrides: Record<string, string>) => ({
      clientId: SAMPLE_CREDENTIALS.clientId,
      clientSecret: SAMPLE_CREDENTIALS.clientSecret,
      endpointIp: '127.0.0.1',
      baseUrl: file.sandbox.url,
      ...overrides,
    });
    const probes: Array<{
      minute: number;
      fault: string;
      status: number;
      type: string;
      retryAfter?: string;
    }> = [];
    const probe = async (minute: number, fault: string, linkId: string) => {
      const before = await world.store.getLink(linkId);
      const response = await call('GET', `/links/${linkId}`);
      probes.push({
        minute,
        fault,
        status: response.status,
        type: String(response.body?.type ?? '').replace(PROBLEM, ''),
        ...(response.headers['retry-after'] ? { retryAfter: response.headers['retry-after'] } : {}),
      });
      // A failed check never changes the stored status (or anything else).
      if (response.status >= 500) expect(await world.store.getLink(linkId)).toEqual(before);
      return response;
    };
    /** A link still not final in the table: a GET of a final one is answered from it, asking InstantPay nothing. */
    const notFinal = async () => {
      for (const { linkId } of links) {
        const state = linkId ? await world.store.getLink(linkId) : undefined;
        if (linkId && state?.status && !isFinal(state.status)) return linkId;
      }
      throw new Error('every link is final: nothing left to ask InstantPay about');
    };
    let readsBeforeRotation = 0;

    const runs = await runSchedule({
      clock,
      tracker,
      store: world.sweep,
      ledger,
      log: world.log.logger,
      maxRuns: 16,
      before: async (minute) => {
        if (minute === FINAL_MINUTE) {
          // Each group's fault hits its links' next call once; 30 % of all other calls get HTTP 500.
          links.forEach((link, index) => {
            const fault = GROUP_FAULTS[index % 8];
            if (fault)
              file.sandbox.addFault({ kind: fault.kind, value: fault.value, count: 1, linkId: link.linkId });
          });
          file.sandbox.addFault({ kind: 'http-status', value: 500, probability: 0.3 });
          for (const [group, fault] of GROUP_FAULTS.entries()) {
            const response = await probe(minute, `${fault.kind} ${fault.value}`, links[group]!.linkId);
            expect({ status: response.status, type: response.body.type }).toEqual({
              status: fault.expect.status,
              type: `${PROBLEM}${fault.expect.type}`,
            });
          }
        }
        if (minute === FINAL_MINUTE + 2) {
          // InstantPay rejects the key in use (IAC for every call) while the stored secret is
          // replaced by a key that does not work either: each rejection rereads the secret.
          file.sandbox.clearFaults();
          file.sandbox.addFault({ kind: 'statuscode', value: 'IAC' });
          await putSecret(world.clients, world.names.secret, secretValue({ clientSecret: REVOKED_SECRET }));
          const response = await probe(minute, 'IAC for every call', await notFinal());
          expect(response.body.type).toBe(`${PROBLEM}upstream-credentials-rejected`);
        }
        if (minute === FINAL_MINUTE + 3) {
          // No fault any more: the sandbox itself rejects the revoked key the tracker now holds.
          file.sandbox.clearFaults();
          const sentBefore = sent.length;
          const response = await probe(minute, 'revoked key', await notFinal());
          expect(response.body.type).toBe(`${PROBLEM}upstream-credentials-rejected`);
          expect(sent.slice(sentBefore).map((s) => s.clientSecret === REVOKED_SECRET)).toEqual([true]);
        }
        if (minute === FINAL_MINUTE + 4) {
          // The operator rotates the secret; the next rejection rereads it and the retry succeeds:
          // no redeploy, no waiting for the cache.
          readsBeforeRotation = secretReads.get('GetSecretValueCommand') ?? 0;
          await putSecret(
            world.clients,
            world.names.secret,
            secretValue({ endpointIp: ROTATED_ENDPOINT_IP }),
          );
          const sentBefore = sent.length;
          const response = await probe(minute, 'after rotation', await notFinal());
          expect(response.status).toBe(200);
          expect(sent.slice(sentBefore).map((s) => s.endpointIp)).toEqual(['127.0.0.1', ROTATED_ENDPOINT_IP]);
        }
      },
      after: async (minute, run) => {
        if (minute === FINAL_MINUTE) expect(run.summary?.upstreamErrors).toBeGreaterThan(100);
        if (minute === FINAL_MINUTE + 1) file.sandbox.clearFaults();
        if (minute === FINAL_MINUTE + 2 || minute === FINAL_MINUTE + 3) {
          // Nothing got through with rejected credentials; nothing was recorded.
          expect(run.summary?.upstreamErrors).toBe(run.summary?.linksChecked);
          expect(run.summary?.transitionsRecorded).toBe(0);
        }
      },
    });
    file.sandbox.clearFaults();
    expect(runs.map((run) => run.error).filter(Boolean)).toEqual([]);
    // The credentials phase had links to fail.
    const credentialRuns = runs.filter((r) => r.minute === FINAL_MINUTE + 2 || r.minute === FINAL_MINUTE + 3);
    expect(credentialRuns.reduce((sum, r) => sum + (r.summary?.upstreamErrors ?? 0), 0)).toBeGreaterThan(0);
    // Each rejection made the client reread the secret; after the rotation every call carried it.
    expect(readsBeforeRotation).toBeGreaterThan(2);
    const rotatedAt = sent.findIndex((s) => s.endpointIp === ROTATED_ENDPOINT_IP);
    expect(sent.slice(rotatedAt).every((s) => s.endpointIp === ROTATED_ENDPOINT_IP)).toBe(true);
    expect(sent.slice(rotatedAt).length).toBeGreaterThan(1);
    const ledgerReport = await ledger.verify();
    report('5-upstream-faults', ledgerReport, runs, {
      probes,
      secretReads: secretReads.get('GetSecretValueCommand'),
    });
    await world.close();
  });

  it('logged nothing secret or personal', () => {
    expect(logs.lineCount).toBeGreaterThan(0);
    logs.expectClean();
  });
});
