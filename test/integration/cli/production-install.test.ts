import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../../..');
// What the package needs to install and run its bin; test/ and docs/ are not part of it.
const SHIPPED = [
  'package.json',
  'package-lock.json',
  'shared',
  'functions',
  'infra',
  'tools/node24/package.json',
  'tools/node24/package-lock.json',
];
// npm's own variables from an enclosing `npm test` (omit, include, ...) must not change this install.
const env = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  npm_config_cache: process.env.npm_config_cache,
};

let dir: string;

/** `npx payout-link-tracker ...` in the installed copy, as a newcomer runs it (npx finds the project's own bin). */
function npx(args: string[], extraEnv: Record<string, string> = {}) {
  return run('npx', ['--offline', 'payout-link-tracker', ...args], {
    cwd: dir,
    env: { ...env, ...extraEnv },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'payout-link-tracker-prod-'));
  for (const path of SHIPPED) await cp(join(ROOT, path), join(dir, path), { recursive: true });
  // --offline: no network in tests; the npm cache holds every package since this checkout's own `npm ci`.
  await run('npm', ['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund'], { cwd: dir, env });
}, 180_000);
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the package installed without its devDependencies', () => {
  it('holds what the bin needs (tsx) and no devDependency', () => {
    expect(existsSync(join(dir, 'node_modules/tsx'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules/aws-cdk-lib'))).toBe(false);
  });

  it('downloads no Node.js 24, which only the tests of the bundles use', () => {
    expect(existsSync(join(dir, 'tools/node24/node_modules/node'))).toBe(false);
  });

  it('runs its bin: npx payout-link-tracker --help prints the usage and exits 0', async () => {
    const { stdout } = await npx(['--help']);
    expect(stdout).toContain('Usage: payout-link-tracker <command> [options]');
  }, 180_000);

  it('runs a link command and an operator command to their own errors, not to a missing module', async () => {
    const unreachable = {
      AWS_REGION: 'ap-south-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
      AWS_MAX_ATTEMPTS: '1',
      PORT: '1',
    };
    const failure = (args: string[]) =>
      npx(args, unreachable).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );

    expect(await failure(['track', 'abc', '--local'])).toEqual({
      code: 1,
      stderr: expect.stringContaining('Could not reach the API at http://127.0.0.1:1'),
    });
    // redrive loads the SQS and DynamoDB clients on demand: they must be installed too
    expect(await failure(['redrive', '--subscriber', 'hooks', '--stage', 'local'])).toEqual({
      code: 1,
      stderr: expect.stringContaining('ECONNREFUSED 127.0.0.1:1'),
    });
  }, 180_000);
});
