/**
 * Entry of the load benchmark's server process (see `load.ts`): `startLocalCloud` as `npm start`
 * runs it (its own emulator, the schedule every second compressed 60 times, the webhook and console
 * pollers), with the InstantPay sandbox of another process as a "real" InstantPay
 * (`LOAD_SANDBOX_URL`). It talks to its parent over IPC: `ready` with the API URL, every line the
 * local cloud prints (`line`), its memory on request (`memory`, after a full GC when asked), the
 * DynamoDB calls of the document client while recording (`dynamo`). It stops when told (`stop`),
 * when the parent goes away, or on SIGTERM; the emulator exits with it.
 */
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { startLocalCloud } from '#infra/local/local-cloud.ts';
import { LocalSettingsSchema } from '#infra/local/local-settings.ts';
import { SAMPLE_CREDENTIALS } from '#infra/sandbox/server.ts';
import { sharedDocumentClient } from '#shared/store/link-store.ts';

export type ToServer =
  | { type: 'memory'; gc: boolean }
  | { type: 'dynamo'; recording: boolean }
  | { type: 'stop' };

export type FromServer =
  | { type: 'ready'; apiUrl: string }
  | { type: 'line'; line: string }
  | {
      type: 'memory';
      rss: number;
      heapUsed: number;
      heapTotal: number;
      external: number;
      /** Of `heapUsed`: the old space (long-lived objects) and the code space (compiled code). */
      oldSpace: number;
      codeSpace: number;
      /** CPU time of this process and of its emulator so far (ms). */
      cpuMs: number;
      emulatorCpuMs: number;
    }
  | { type: 'dynamo'; durations: number[] };

const send = (message: FromServer) => process.send?.(message);

const sandboxUrl = process.env.LOAD_SANDBOX_URL;
if (!sandboxUrl || !process.send) throw new Error('run by load.ts, with LOAD_SANDBOX_URL and an IPC channel');

const cloud = await startLocalCloud(
  LocalSettingsSchema.parse({
    PORT: '0',
    INSTANTPAY_BASE_URL: sandboxUrl,
    INSTANTPAY_CLIENT_ID: SAMPLE_CREDENTIALS.clientId,
    INSTANTPAY_CLIENT_SECRET: SAMPLE_CREDENTIALS.clientSecret,
    INSTANTPAY_ENDPOINT_IP: '127.0.0.1',
    // No discovery: it would register the load's links before the load does, and add its calls.
    DISCOVERY_INTERVAL_SECONDS: '0',
  }),
  (line) => send({ type: 'line', line }),
);

// Every call of the link store's document client (the API's and the schedule's), timed while recording.
const dynamo = { recording: false, durations: [] as number[] };
sharedDocumentClient().middlewareStack.add(
  (next) => async (args) => {
    if (!dynamo.recording) return next(args);
    const startedAt = performance.now();
    try {
      return await next(args);
    } finally {
      dynamo.durations.push(performance.now() - startedAt);
    }
  },
  { step: 'initialize', name: 'loadBenchTimeCalls' },
);

/** User and system time of a process from `/proc/<pid>/stat` (clock ticks of 10 ms); NaN elsewhere. */
function cpuMsOf(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), 4_500).unref();
  void cloud.stop().finally(() => process.exit(0));
};
process.on('message', (message: ToServer) => {
  if (message.type === 'stop') stop();
  else if (message.type === 'memory') {
    if (message.gc) globalThis.gc?.();
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    const { user, system } = process.cpuUsage();
    const space = (name: string) =>
      getHeapSpaceStatistics().find((each) => each.space_name === name)?.space_used_size ?? Number.NaN;
    send({
      type: 'memory',
      rss,
      heapUsed,
      heapTotal,
      external,
      oldSpace: space('old_space'),
      codeSpace: space('code_space'),
      cpuMs: (user + system) / 1000,
      emulatorCpuMs: cpuMsOf(cloud.childPids[0]),
    });
  } else if (message.type === 'dynamo') {
    if (message.recording) dynamo.durations = [];
    dynamo.recording = message.recording;
    if (!message.recording) send({ type: 'dynamo', durations: dynamo.durations });
  }
});
process.on('disconnect', stop);
process.once('SIGTERM', stop);
send({ type: 'ready', apiUrl: cloud.apiUrl });
