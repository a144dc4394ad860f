/**
 * Entry of the benchmark's sandbox process (see `sandbox-process.ts`): the sandbox on a free loopback
 * port, silent, until its parent closes stdin or stops it.
 */
import { startSandbox } from '#infra/sandbox/server.ts';

const sandbox = await startSandbox();
process.stdout.write(`SANDBOX_URL=${sandbox.url}\n`);

const stop = () => {
  void sandbox.close().finally(() => process.exit(0));
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.once('SIGTERM', stop);
process.stdin.resume();
