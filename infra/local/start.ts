import { parseEnv } from '#shared/config/runtime-config.ts';
import { startLocalCloud } from './local-cloud.ts';
import { helpText, LocalSettingsSchema } from './local-settings.ts';
import { MotoMissingError } from './moto.ts';

/** `npm start`: the whole system on this machine. */
async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(helpText());
    return;
  }
  const settings = parseEnv(LocalSettingsSchema, process.env);
  const time = () => new Date().toISOString().slice(11, 19);
  const print = (line: string) => console.log(`${time()} ${line}`);
  const cloud = await startLocalCloud(settings, print);

  console.log(`
Payout link tracker, running locally
  API            ${cloud.apiUrl}        (GET/POST /links, GET/DELETE /links/{id}, GET /links/{id}/events)
  sandbox        ${cloud.sandboxUrl}    (InstantPay simulator; control API under /sandbox/)
  webhook sink   ${cloud.apiUrl}/local/webhooks
  webhook secret ${cloud.webhookSecret}

Try it: a link that is claimed 20 seconds after it is created, then register it with the tracker:
  curl -s -X POST ${cloud.sandboxUrl}/sandbox/links -H 'content-type: application/json' \\
    -d '{"linkId": "demo-link-1", "amount": 500, "timeline": [{"afterMs": 0, "status": "ISSUED"}, {"afterMs": 10000, "status": "PROCESSING"}, {"afterMs": 20000, "status": "CLAIMED"}]}'
  curl -s -X POST ${cloud.apiUrl}/links -H 'content-type: application/json' -d '{"linkId": "demo-link-1"}'

Each change and each webhook delivery is printed below. Ctrl-C stops everything.
`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    print(`${signal}: stopping`);
    const forced = setTimeout(() => process.exit(1), 4_500);
    forced.unref();
    void cloud.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof MotoMissingError) console.error(error.message);
  else console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
