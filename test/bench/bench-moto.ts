import { type MotoServer, startMoto } from '#infra/local/moto.ts';
import { onCleanup, progress } from './cleanup.ts';

let started: Promise<MotoServer> | undefined;

/**
 * The one emulator of a benchmark run, started on first use and stopped by `cleanupAll`, with the
 * environment pointing every AWS SDK client of this process at it.
 *
 * One, not one per benchmark: the SDK pins a client's endpoint at its first request
 * (`AWS_ENDPOINT_URL` is read once), and the module-level clients (`sharedDocumentClient()` of the
 * link store, the event publisher's, the secrets', the handlers' imported by the local cloud) live as
 * long as the process. A second emulator on another port would leave them talking to a dead one.
 */
export function benchMoto(): Promise<MotoServer> {
  started ??= (async () => {
    const moto = await startMoto();
    onCleanup(() => moto.stop());
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'ap-south-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    delete process.env.AWS_PROFILE;
    progress(`emulator (moto) on ${moto.endpoint}, shared by every benchmark of this run`);
    return moto;
  })();
  return started;
}
