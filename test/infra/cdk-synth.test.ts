import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYED_STAGES } from '#infra/app.ts';
import { PROJECT_ROOT } from '#infra/constructs/tracker-function.ts';
import { stackName } from '#shared/resource-names.ts';

const run = promisify(execFile);

/**
 * cfn-lint warnings we accept, each with its reason. Anything else (and any error) fails the test.
 */
const ACCEPTED_CFN_LINT_WARNINGS: Record<string, string> = {
  W3005:
    "CDK's Function depends on its whole role construct: the DependsOn on the role policy is needed (the function must not run before its permissions exist); the one on the role itself is redundant with the GetAtt, and harmless.",
};

interface Synth {
  outdir: string;
  exitCode: number;
  output: string;
}

interface CfnLintFinding {
  Filename: string;
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Rule: { Id: string };
  Location: { Path: (string | number)[] };
}

const workdir = mkdtempSync(join(tmpdir(), 'payout-link-tracker-synth-'));
const synths = new Map<string, Synth>();

/** `npx cdk synth` exactly as an operator runs it: offline, no version check, no notices. */
async function cdkSynth(stage: string): Promise<Synth> {
  const outdir = join(workdir, stage);
  try {
    const { stdout, stderr } = await run(
      'npx',
      ['cdk', 'synth', '-c', `stage=${stage}`, '--no-notices', '-q', '-o', outdir],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', AWS_EC2_METADATA_DISABLED: 'true' },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { outdir, exitCode: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { outdir, exitCode: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

function templatePath(stage: string): string {
  return join(synths.get(stage)!.outdir, `${stackName(stage)}.template.json`);
}

beforeAll(async () => {
  // Two synths at a time on two cores: each one bundles every function with esbuild.
  const pending = [...DEPLOYED_STAGES];
  await Promise.all(
    [1, 2].map(async () => {
      for (let stage = pending.shift(); stage; stage = pending.shift())
        synths.set(stage, await cdkSynth(stage));
    }),
  );
}, 240_000);

afterAll(() => rmSync(workdir, { recursive: true, force: true }));

describe.each(DEPLOYED_STAGES)('npx cdk synth -c stage=%s', (stage) => {
  it('synthesizes offline, bundling every function, with the three cdk-nag packs passing', () => {
    const synth = synths.get(stage)!;
    expect(synth.exitCode, synth.output).toBe(0);
    const template = JSON.parse(readFileSync(templatePath(stage), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(3);
    const bundles = readdirSync(synth.outdir).filter((name) => name.startsWith('asset.'));
    for (const bundle of bundles) {
      expect(existsSync(join(synth.outdir, bundle, 'index.mjs'))).toBe(true);
      expect(existsSync(join(synth.outdir, bundle, 'index.mjs.map'))).toBe(true);
    }
    expect(synth.output).not.toMatch(/AwsSolutions-|Serverless-|PCI\.DSS\.321-/);
  });
});

describe('cfn-lint', () => {
  it('finds no error in any synthesized template, and only the accepted warnings', async () => {
    const templates = DEPLOYED_STAGES.map(templatePath);
    let exitCode = 0;
    let stdout = '';
    try {
      ({ stdout } = await run('cfn-lint', ['--format', 'json', ...templates], {
        maxBuffer: 64 * 1024 * 1024,
      }));
    } catch (error) {
      const failed = error as { code?: number | string; stdout?: string; stderr?: string };
      if (failed.code === 'ENOENT') {
        throw new Error('cfn-lint is not installed: `pip install cfn-lint` (it runs on python3).');
      }
      exitCode = Number(failed.code);
      stdout = failed.stdout ?? '';
      // Exit code bits: 2 errors, 4 warnings, 8 informational; anything else means cfn-lint itself failed.
      expect(exitCode & ~(2 | 4 | 8), failed.stderr).toBe(0);
    }
    const findings = JSON.parse(stdout || '[]') as CfnLintFinding[];
    const show = (f: CfnLintFinding) =>
      `${f.Rule.Id} ${f.Filename.split('/').pop()} ${f.Location.Path.join('/')}: ${f.Message}`;
    const warnings = findings.filter((f) => f.Level === 'Warning');
    for (const [rule, reason] of Object.entries(ACCEPTED_CFN_LINT_WARNINGS)) {
      const hits = warnings.filter((w) => w.Rule.Id === rule).length;
      if (hits > 0) console.log(`cfn-lint ${rule} (${hits}x) accepted: ${reason}`);
    }
    for (const warning of warnings.filter((w) => !(w.Rule.Id in ACCEPTED_CFN_LINT_WARNINGS))) {
      console.log(`cfn-lint warning NOT accepted: ${show(warning)}`);
    }
    expect(findings.filter((f) => f.Level === 'Error').map(show)).toEqual([]);
    expect(exitCode & 2).toBe(0);
    expect(warnings.filter((w) => !(w.Rule.Id in ACCEPTED_CFN_LINT_WARNINGS)).map(show)).toEqual([]);
  });
});

describe('the function bundles', () => {
  it('load as ESM on Node with the environment the stack gives them, and export a handler', async () => {
    const outdir = synths.get('staging')!.outdir;
    const template = JSON.parse(readFileSync(templatePath('staging'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(4);
    for (const fn of functions) {
      const properties = fn.Properties as {
        FunctionName: string;
        Code: { S3Key: string };
        Environment?: { Variables: Record<string, unknown> };
      };
      const asset = join(outdir, `asset.${properties.Code.S3Key.replace(/\.zip$/, '')}`, 'index.mjs');
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };
      for (const [key, value] of Object.entries(properties.Environment?.Variables ?? {})) {
        env[key] =
          typeof value === 'string'
            ? value
            : JSON.stringify(value).includes('Fn::Join')
              ? '[{"name":"merchant-sandbox","url":"https://webhooks.example.com/x","secretName":"s","queueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/q","queueArn":"arn:aws:sqs:eu-west-1:123456789012:q","deadLetterQueueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/dlq","deadLetterQueueArn":"arn:aws:sqs:eu-west-1:123456789012:dlq"}]'
              : 'resolved-at-deploy';
      }
      const probe = `const m = await import(${JSON.stringify(asset)}); if (typeof m.handler !== 'function') { console.error('no handler'); process.exit(3); }`;
      const { stderr } = await run(
        process.execPath,
        ['--enable-source-maps', '--input-type=module', '-e', probe],
        {
          env,
        },
      ).catch((error: { stderr?: string; message: string }) => {
        throw new Error(`${properties.FunctionName} does not load: ${error.stderr ?? error.message}`);
      });
      expect(stderr, properties.FunctionName).not.toMatch(/Dynamic require/);
    }
  });
});
