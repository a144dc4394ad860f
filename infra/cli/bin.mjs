#!/usr/bin/env node
// `payout-link-tracker`: the CLI (infra/cli/main.ts), run through tsx, a dependency so `npm ci --omit=dev` runs it.
import { register } from 'tsx/esm/api';

register();
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `payout-link-tracker list --json | head` closes stdout early: that is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { runCli } = await import('./main.ts');
// Pipes and files are written synchronously on Linux, so exiting now loses no output; it also
// closes the SDK's and fetch's idle keep-alive connections instead of waiting for them.
process.exit(await runCli(process.argv.slice(2)));
