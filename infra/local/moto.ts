import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A moto server (the local AWS API emulator) started on a free loopback port. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`: what `AWS_ENDPOINT_URL` points at. */
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export class MotoMissingError extends Error {
  override readonly name = 'MotoMissingError';
}

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 1_000;
const SERVER_SCRIPT = fileURLToPath(new URL('./serial_moto_server.py', import.meta.url));
const MISSING_HINT =
  'The local AWS emulator is missing: moto (the `moto_server` of `pip install moto[server]`) could not be imported by python3. ' +
  "Install it with `pip install 'moto[server]'` (it provides `moto_server`), then try again.";

/**
 * Starts moto's server through python3 on 127.0.0.1 with port 0 and reads the port it bound from
 * its banner, so there is no race for a "free" port. Requests are served one at a time (see
 * `serial_moto_server.py`: moto's threaded server breaks transaction isolation). Fails with
 * {@link MotoMissingError} naming the missing tool when python3 or moto is absent. `env` adds to the
 * server's environment (`MOTO_FAULTS`, `MOTO_PROFILE`); DynamoDB faults are armed and read with
 * `emulator-faults.ts`.
 */
export async function startMoto(
  options: { python?: string; env?: Record<string, string> } = {},
): Promise<MotoServer> {
  const python = options.python ?? process.env.PYTHON ?? 'python3';
  const child = spawn(python, [SERVER_SCRIPT, '127.0.0.1', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env, PYTHONUNBUFFERED: '1' },
  });
  const endpoint = await waitForBanner(child, python);
  const pid = child.pid ?? -1;
  return { endpoint, pid, stop: () => stopProcess(child) };
}

function waitForBanner(child: ChildProcess, python: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void stopProcess(child);
      reject(
        new Error(
          `moto server did not start within ${START_TIMEOUT_MS} ms; it printed: ${output.slice(-500)}`,
        ),
      );
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        // Keep draining so a chatty server never blocks on a full pipe.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT' ? new MotoMissingError(`${MISSING_HINT} (${python} was not found)`) : error,
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const missing = /No module named ['"]?(moto|flask|werkzeug)/.exec(output);
      reject(
        missing
          ? new MotoMissingError(`${MISSING_HINT} (${missing[0]})`)
          : new Error(`moto server exited with code ${code} before it was ready: ${output.slice(-500)}`),
      );
    });
  });
}

/** moto has been seen to ignore SIGTERM: ask politely, then SIGKILL after a short grace period. */
export function stopProcess(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
