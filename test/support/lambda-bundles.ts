import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { PROJECT_ROOT } from '#infra/constructs/tracker-function.ts';
import { PayoutLinkTrackerStack } from '#infra/stack.ts';

/**
 * Node.js 24, the runtime the functions are deployed on (`nodejs24.x`): the `node` package of
 * `tools/node24`, which the root `npm ci` installs (its postinstall).
 */
const NODE24 = join(PROJECT_ROOT, 'tools/node24/node_modules/.bin/node');
const INVOKE_BUNDLE = join(PROJECT_ROOT, 'test/support/invoke-bundle.mjs');

/** The Node 24 binary's version, or an error saying how to install it. */
export function requireNode24(): string {
  const fix = 'run `npm ci` (its postinstall installs Node 24 into tools/node24 with `npm ci` there)';
  if (!existsSync(NODE24))
    throw new Error(`Node.js 24 (the Lambda runtime) is missing at ${NODE24}: ${fix}.`);
  const version = execFileSync(NODE24, ['--version'], { encoding: 'utf8', env: {} }).trim();
  if (!version.startsWith('v24.')) throw new Error(`${NODE24} is Node.js ${version}, not 24: ${fix}.`);
  return version;
}

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

/**
 * Synthesizes one stage's stack into `outdir` exactly as `cdk synth` does (the app's `cdk.json`
 * context, each function bundled by its construct into an `asset.*` directory). The function
 * bundles do not depend on the stage: only the template around them does.
 */
export function synthesizeStage(config: StageConfig, outdir: string): CfnTemplate {
  const { context } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const app = new App({ outdir, ...(context ? { context } : {}) });
  const stack = new PayoutLinkTrackerStack(app, `PayoutLinkTracker-${config.stage}`, { config });
  const assembly = app.synth();
  return assembly.getStackArtifact(stack.artifactId).template as CfnTemplate;
}

/** A function of the template, with where its bundle is and what the runtime gives it. */
export interface SynthesizedFunction {
  logicalId: string;
  functionName: string;
  /** The bundle's entry module (`asset.<hash>/index.mjs`) and the export the `Handler` names. */
  module: string;
  exportName: string;
  runtime: string;
  memoryMb: number;
  timeoutMs: number;
  /** The template's `Environment.Variables`, intrinsic functions unresolved. */
  environment: Record<string, unknown>;
}

export function synthesizedFunction(
  template: CfnTemplate,
  outdir: string,
  functionName: string,
): SynthesizedFunction {
  const found = Object.entries(template.Resources).find(
    ([, resource]) =>
      resource.Type === 'AWS::Lambda::Function' && resource.Properties.FunctionName === functionName,
  );
  if (!found) throw new Error(`The template has no function named ${functionName}.`);
  const [logicalId, { Properties: p }] = found;
  const code = p.Code as { S3Key: string };
  const [file, exportName] = String(p.Handler).split('.');
  return {
    logicalId,
    functionName,
    module: join(outdir, `asset.${code.S3Key.replace(/\.zip$/, '')}`, `${file}.mjs`),
    exportName: exportName ?? 'handler',
    runtime: String(p.Runtime),
    memoryMb: Number(p.MemorySize ?? 128),
    timeoutMs: Number(p.Timeout ?? 3) * 1000,
    environment: (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
  };
}

/** What a `Ref` or `Fn::GetAtt` of the template stands for on the emulator. */
export type PhysicalValue = (logicalId: string, attribute?: string) => string;

/** Resolves `Ref`, `Fn::GetAtt` and `Fn::Join` (all a function's environment uses); anything else fails. */
function resolveIntrinsic(value: unknown, physical: PhysicalValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const entries = value !== null && typeof value === 'object' ? Object.entries(value) : [];
  const [name, argument] = entries.length === 1 ? (entries[0] as [string, unknown]) : [];
  if (name === 'Ref') return physical(String(argument));
  if (name === 'Fn::GetAtt') {
    const [logicalId, attribute] = argument as [string, string];
    return physical(logicalId, attribute);
  }
  if (name === 'Fn::Join') {
    const [separator, parts] = argument as [string, unknown[]];
    return parts.map((part) => resolveIntrinsic(part, physical)).join(separator);
  }
  throw new Error(`Cannot resolve ${JSON.stringify(value)}: only Ref, Fn::GetAtt and Fn::Join are known.`);
}

/** The function's environment as Lambda would set it: the template's variables, resolved. */
export function resolvedEnvironment(
  fn: SynthesizedFunction,
  physical: PhysicalValue,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fn.environment).map(([key, value]) => {
      try {
        return [key, resolveIntrinsic(value, physical)];
      } catch (error) {
        throw new Error(`${fn.functionName}: ${key}: ${(error as Error).message}`);
      }
    }),
  );
}

export interface Invocation {
  ok: boolean;
  result?: unknown;
  error?: { name?: string; message?: string; stack?: string };
  nodeVersion: string;
  /** What the function wrote (its log lines, as CloudWatch would hold them). */
  stdout: string;
  stderr: string;
}

/**
 * Invokes the bundle once in a fresh Node 24 process (a cold start) with only the environment
 * Lambda gives a function: the template's variables plus the runtime's own (region, credentials,
 * function name and memory), and `AWS_ENDPOINT_URL` pointing the bundled SDK at the emulator.
 */
export function invokeOnNode24(
  fn: SynthesizedFunction,
  environment: Record<string, string>,
  event: unknown,
): Promise<Invocation> {
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: process.env.AWS_REGION ?? 'ap-south-1',
    AWS_DEFAULT_REGION: process.env.AWS_REGION ?? 'ap-south-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'testing',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing',
    AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? '',
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    LAMBDA_TASK_ROOT: join(fn.module, '..'),
    ...environment,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(NODE24, [INVOKE_BUNDLE], {
      cwd: join(fn.module, '..'),
      env,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let report = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdio[3]?.on('data', (chunk) => {
      report += chunk;
    });
    // The function's own timeout, plus a cold start on a loaded machine.
    const timer = setTimeout(() => child.kill('SIGKILL'), fn.timeoutMs + 30_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (!report) {
        reject(
          new Error(
            `${fn.functionName} on Node 24 ended (code ${code}, signal ${signal}) without an outcome.\n${stderr}\n${stdout}`,
          ),
        );
        return;
      }
      resolve({ ...(JSON.parse(report) as Omit<Invocation, 'stdout' | 'stderr'>), stdout, stderr });
    });
    child.stdin?.end(
      JSON.stringify({
        module: fn.module,
        exportName: fn.exportName,
        event,
        functionName: fn.functionName,
        memoryMb: fn.memoryMb,
        timeoutMs: fn.timeoutMs,
      }),
    );
  });
}

/** The JSON log lines a function wrote. */
export function logLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
