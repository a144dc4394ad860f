import { createDeliverHandler } from '#functions/deliver-webhooks/wiring.ts';
import { createDiscoverHandler } from '#functions/discover-links/wiring.ts';
import { createRecheckHandler } from '#functions/recheck-pending/wiring.ts';
import { createTrackLinkHandler } from '#functions/track-link/wiring.ts';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { SAMPLE_CREDENTIALS, startSandbox } from '#infra/sandbox/server.ts';
import { generateWebhookSecret } from '#shared/webhooks/webhook-secret.ts';
import { localClients } from './aws-resources.ts';
import { listenApi } from './local-api.ts';
import { createLocalResources } from './local-resources.ts';
import type { LocalSettings } from './local-settings.ts';
import { localEnvironments, localStageConfig } from './local-stage.ts';
import { startMoto } from './moto.ts';
import { startPollers } from './pollers.ts';

export interface LocalCloud {
  apiUrl: string;
  sandboxUrl: string;
  webhookSecret: string;
  /** pids of the processes this started (the emulator), for "no orphans" checks. */
  childPids: number[];
  stop(): Promise<void>;
}

type Print = (line: string) => void;
type Stops = Array<() => Promise<void>>;

/**
 * Starts the whole system on this machine: the emulator (unless given), the sandbox (unless a real
 * InstantPay is given), the resources of the `local` stage from the shared definitions, and the
 * four real Lambda handlers driven as AWS would drive them. What started is stopped, last first,
 * by `stop()` or when a later step fails.
 */
export async function startLocalCloud(
  settings: LocalSettings,
  print: Print = console.log,
): Promise<LocalCloud> {
  const stops: Stops = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  try {
    return await start(settings, print, stops, stopAll);
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function start(settings: LocalSettings, print: Print, stops: Stops, stopAll: () => Promise<void>) {
  const childPids = await useEmulator(settings, stops);
  const sandboxUrl = await startLocalSandbox(settings, stops);

  // The API first, so the sink's URL (on its port) is known for the subscribers: 503 until ready.
  const api = await listenApi(settings.PORT, print);
  stops.push(() => api.close());
  print(`starting: the API at ${api.url} answers 503 until every part is ready`);

  const config = localStageConfig(settings, api.url);
  const webhookSecret = settings.WEBHOOK_SECRET ?? generateWebhookSecret();
  const clients = localClients();
  const resources = await createLocalResources(clients, config, {
    webhook: webhookSecret,
    instantPay: instantPaySecret(settings, sandboxUrl),
  });

  // The real handlers, each built from the environment the stack would give it in this stage.
  const environments = localEnvironments(config, settings, resources.targets);
  const pollers = startPollers({
    clients,
    resources,
    handlers: {
      recheck: createRecheckHandler(environments.recheck),
      deliver: createDeliverHandler(environments.deliver),
      discover: createDiscoverHandler(environments.discover),
    },
    recheckEveryMs: settings.RECHECK_INTERVAL_SECONDS * 1000,
    discoverEveryMs: settings.DISCOVERY_INTERVAL_SECONDS * 1000,
    print,
  });
  stops.push(() => pollers.stop());
  api.ready({ trackLink: createTrackLinkHandler(environments.trackLink), webhookSecret });
  return { apiUrl: api.url, sandboxUrl, webhookSecret, childPids, stop: stopAll };
}

/**
 * Points this process's AWS SDK at the emulator (`AWS_ENDPOINT_URL`, or a moto server started
 * here), as a Lambda's SDK reads its runtime's variables; returns the pids it started.
 */
async function useEmulator(settings: LocalSettings, stops: Stops): Promise<number[]> {
  let endpoint = settings.AWS_ENDPOINT_URL;
  const childPids: number[] = [];
  if (!endpoint) {
    const moto = await startMoto();
    childPids.push(moto.pid);
    stops.push(() => moto.stop());
    endpoint = moto.endpoint;
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: process.env.AWS_REGION ?? 'ap-south-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  return childPids;
}

/** The InstantPay sandbox, unless a real InstantPay is configured: the base URL either way. */
async function startLocalSandbox(settings: LocalSettings, stops: Stops): Promise<string> {
  if (settings.INSTANTPAY_BASE_URL) return settings.INSTANTPAY_BASE_URL;
  const sandbox = await startSandbox({
    port: settings.SANDBOX_PORT,
    ...(settings.SANDBOX_CLOCK === 'manual' ? { clock: new ManualClock() } : {}),
  });
  stops.push(() => sandbox.close());
  return sandbox.url;
}

/** The local stage's InstantPay secret: the real InstantPay's credentials, or the sandbox's. */
function instantPaySecret(settings: LocalSettings, baseUrl: string): Record<string, unknown> {
  return settings.INSTANTPAY_BASE_URL
    ? {
        clientId: settings.INSTANTPAY_CLIENT_ID,
        clientSecret: settings.INSTANTPAY_CLIENT_SECRET,
        endpointIp: settings.INSTANTPAY_ENDPOINT_IP,
        baseUrl,
      }
    : {
        clientId: SAMPLE_CREDENTIALS.clientId,
        clientSecret: SAMPLE_CREDENTIALS.clientSecret,
        endpointIp: '127.0.0.1',
        baseUrl,
      };
}
