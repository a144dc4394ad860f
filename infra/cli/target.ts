import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { AwsCredentialIdentityProvider, Provider } from '@smithy/types';
import { LOCAL_DEFAULTS } from '#infra/config/local-defaults.ts';
import { stageConfig } from '#infra/config/stage-config.ts';
import { stackName } from '#shared/resource-names.ts';
import { type ApiClient, createApiClient, sigV4Signer } from './api-client.ts';
import { CliError, UsageError } from './errors.ts';

const DEFAULT_STAGE = 'dev';
const API_URL_ENV = 'PAYOUT_LINK_TRACKER_API_URL';

export interface TargetOptions {
  stage?: string | undefined;
  local?: boolean | undefined;
  apiUrl?: string | undefined;
}

/** What the API commands talk to, and how; injectable for tests. */
export interface TargetDeps {
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  credentials?: AwsCredentialIdentityProvider;
  region?: Provider<string>;
  cloudFormation?: () => CloudFormationClient | Promise<CloudFormationClient>;
}

/**
 * The stage a command works on: `--local` is the `local` stage; otherwise `--stage` (default `dev`),
 * checked against the stage configs so a typo lists the stages.
 */
export function resolveStage(options: TargetOptions, command?: string): string {
  if (options.local) {
    if (options.stage !== undefined && options.stage !== 'local') {
      throw new UsageError(
        `--local is the local stage; it cannot be combined with --stage ${options.stage}.`,
        command,
      );
    }
    return 'local';
  }
  const stage = options.stage ?? DEFAULT_STAGE;
  stageConfig(stage);
  return stage;
}

/**
 * The API client for the command line's target:
 * - `--local` (or `--stage local`): the local cloud at `http://127.0.0.1:${PORT:-3000}` (or `--api-url`), unsigned;
 * - otherwise `--api-url`, else `PAYOUT_LINK_TRACKER_API_URL`, else the `ApiUrl` output of the stage's
 *   stack, with every request signed (SigV4, `execute-api`) by the standard credential chain.
 */
export async function apiClientFor(
  options: TargetOptions,
  deps: TargetDeps = {},
  command?: string,
): Promise<ApiClient> {
  const env = deps.env ?? process.env;
  const stage = resolveStage(options, command);
  const fetchOption = deps.fetch ? { fetch: deps.fetch } : {};
  if (stage === 'local') {
    const baseUrl = checkedUrl(
      options.apiUrl ?? `http://127.0.0.1:${env.PORT || LOCAL_DEFAULTS.PORT}`,
      command,
    );
    return createApiClient({
      baseUrl,
      ...fetchOption,
      ...(options.apiUrl ? {} : { unreachableHint: 'Is the local cloud running (npm start)?' }),
    });
  }
  const baseUrl = checkedUrl(
    options.apiUrl ?? (env[API_URL_ENV] || undefined) ?? (await stackApiUrl(stage, deps)),
    command,
  );
  const credentials =
    deps.credentials ?? (await import('@aws-sdk/credential-provider-node')).defaultProvider();
  const region = regionOfApiUrl(baseUrl) ?? deps.region ?? (await regionFromChain());
  return createApiClient({ baseUrl, signer: sigV4Signer({ credentials, region }), ...fetchOption });
}

/** `https://{id}.execute-api.{region}.amazonaws.com/...` names its region; a custom domain does not. */
export function regionOfApiUrl(url: string): string | undefined {
  const host = new URL(url).hostname;
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(host)?.[1];
}

async function regionFromChain(): Promise<Provider<string>> {
  const { loadConfig, NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS } = await import(
    '@smithy/core/config'
  );
  const load = loadConfig(NODE_REGION_CONFIG_OPTIONS, NODE_REGION_CONFIG_FILE_OPTIONS);
  return async () => {
    try {
      return await load();
    } catch {
      throw new CliError('No AWS region found: set AWS_REGION (or a region in your AWS profile).');
    }
  };
}

/** The `ApiUrl` output of `PayoutLinkTracker-<stage>` (CloudFormation DescribeStacks). */
async function stackApiUrl(stage: string, deps: TargetDeps = {}): Promise<string> {
  return stackOutput(stage, 'ApiUrl', deps, `give --api-url or ${API_URL_ENV}`);
}

/**
 * One output of the stage's stack, `PayoutLinkTracker-<stage>` (CloudFormation DescribeStacks);
 * `instead` says what the user can give in its place when there is no such stack or output.
 */
export async function stackOutput(
  stage: string,
  key: string,
  deps: TargetDeps = {},
  instead?: string,
): Promise<string> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const client = deps.cloudFormation ? await deps.cloudFormation() : new CloudFormationClient({});
  const name = stackName(stage);
  const orElse = instead ? `, or ${instead}` : '';
  let outputs: Array<{ OutputKey?: string; OutputValue?: string }>;
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: name }));
    outputs = Stacks[0]?.Outputs ?? [];
  } catch (error) {
    if (error instanceof Error && /does not exist/i.test(error.message)) {
      const region = await client.config.region().catch(() => 'this region');
      throw new CliError(
        `There is no stack ${name} in ${region}: deploy it (npx cdk deploy -c stage=${stage})${orElse}.`,
      );
    }
    throw error;
  }
  const value = outputs.find((output) => output.OutputKey === key)?.OutputValue;
  if (!value) throw new CliError(`The stack ${name} has no ${key} output${instead ? `: ${instead}` : ''}.`);
  return value;
}

function checkedUrl(value: string, command?: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`The API URL ${JSON.stringify(value)} is not a URL.`, command);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`The API URL must be http(s), not ${url.protocol}`, command);
  }
  return url.toString();
}
