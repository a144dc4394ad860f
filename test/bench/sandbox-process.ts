import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopProcess } from '#infra/local/moto.ts';
import type { FaultInput, TimelineStep } from '#infra/sandbox/server.ts';

/**
 * The InstantPay sandbox in a process of its own, driven through its control API: the upstream is
 * another machine in production, so its CPU must not be charged to the sweep being measured (in the
 * benchmark's own process it costs about a millisecond of event loop per call, which alone holds a
 * sweep at 16 / 50 ms below 0.9 of its bound).
 */
export interface SandboxProcess {
  readonly url: string;
  createLink(input: { amount: number; timeline: TimelineStep[] }): Promise<string>;
  addFault(fault: FaultInput): Promise<void>;
  clearFaults(): Promise<void>;
  close(): Promise<void>;
}

const CHILD_SCRIPT = fileURLToPath(new URL('./sandbox-child.ts', import.meta.url));
/** The repository root, where `--import tsx` resolves. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export async function startSandboxProcess(): Promise<SandboxProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await readUrl(child);

  async function control(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`sandbox ${method} ${path} answered ${response.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  return {
    url,
    async createLink(input) {
      return ((await control('POST', '/sandbox/links', input)) as { linkId: string }).linkId;
    },
    async addFault(fault) {
      await control('POST', '/sandbox/faults', fault);
    },
    async clearFaults() {
      await control('DELETE', '/sandbox/faults');
    },
    close: () => {
      child.stdin?.end();
      return stopProcess(child, 2_000);
    },
  };
}

function readUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      void stopProcess(child);
      reject(new Error(`the sandbox process did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^SANDBOX_URL=(\S+)$/m.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the sandbox process exited with code ${code} before it was ready: ${output}`));
    });
  });
}
