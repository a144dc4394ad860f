import * as z from 'zod';
import { systemClock } from '#shared/clock.ts';
import { ManualClock } from './clock.ts';
import { SAMPLE_CREDENTIALS, SAMPLE_ENDPOINT_IP, SAMPLE_LINK_ID, startSandbox } from './server.ts';

/** `npm run sandbox`: the InstantPay sandbox alone, until Ctrl-C. */
const env = z
  .object({
    SANDBOX_PORT: z.coerce.number().int().min(0).max(65_535).default(8000),
    SANDBOX_HOST: z.string().min(1).default('127.0.0.1'),
    SANDBOX_CLIENT_ID: z.string().min(1).optional(),
    SANDBOX_CLIENT_SECRET: z.string().min(1).optional(),
    SANDBOX_ENDPOINT_IP: z.string().min(1).optional(),
    // `manual` freezes time until `POST /sandbox/clock {advanceMs}` moves it (for tests in other processes).
    SANDBOX_CLOCK: z.enum(['system', 'manual']).default('system'),
  })
  .refine((vars) => (vars.SANDBOX_CLIENT_ID === undefined) === (vars.SANDBOX_CLIENT_SECRET === undefined), {
    message: 'set both SANDBOX_CLIENT_ID and SANDBOX_CLIENT_SECRET, or neither',
  })
  .safeParse(process.env);

if (!env.success) {
  console.error(`The sandbox cannot start: ${z.prettifyError(env.error)}`);
  process.exit(1);
}

const config = env.data;
const configured = config.SANDBOX_CLIENT_ID !== undefined && config.SANDBOX_CLIENT_SECRET !== undefined;
const sandbox = await startSandbox({
  port: config.SANDBOX_PORT,
  host: config.SANDBOX_HOST,
  clock: config.SANDBOX_CLOCK === 'manual' ? new ManualClock() : systemClock,
  credentials: {
    clientId: config.SANDBOX_CLIENT_ID ?? SAMPLE_CREDENTIALS.clientId,
    clientSecret: config.SANDBOX_CLIENT_SECRET ?? SAMPLE_CREDENTIALS.clientSecret,
    endpointIp: config.SANDBOX_ENDPOINT_IP,
  },
  log: (line) => console.log(`${new Date().toISOString()} ${line}`),
});

console.log(`InstantPay sandbox listening on ${sandbox.url}`);
if (configured) {
  console.log('It accepts the credentials configured in SANDBOX_CLIENT_ID and SANDBOX_CLIENT_SECRET.');
} else {
  console.log(`It accepts the sample credentials of InstantPay's Track Link page (../shared/upstream/track-link-api.txt). Try:
  curl '${sandbox.url}/payments/payout/link/track/${SAMPLE_LINK_ID}' \\
    --header 'X-Ipay-Auth-Code: 1' \\
    --header 'X-Ipay-Client-Id: ${SAMPLE_CREDENTIALS.clientId}' \\
    --header 'X-Ipay-Client-Secret: ${SAMPLE_CREDENTIALS.clientSecret}' \\
    --header 'X-Ipay-Endpoint-Ip: ${config.SANDBOX_ENDPOINT_IP ?? SAMPLE_ENDPOINT_IP}'`);
}
console.log(
  `Control API: ${sandbox.url}/sandbox/ (links, faults, stats, reset${config.SANDBOX_CLOCK === 'manual' ? ', clock' : ''})`,
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await sandbox.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
