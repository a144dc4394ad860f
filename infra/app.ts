import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { StageConfigError, stageConfig } from '#infra/config/stage-config.ts';
import { stackName } from '#shared/resource-names.ts';
import { PROJECT_ROOT } from './constructs/tracker-function.ts';
import { PayoutLinkTrackerStack } from './stack.ts';

/** The stages `cdk deploy` accepts; `local` is what `npm start` runs and is never deployed. */
export const DEPLOYED_STAGES = ['dev', 'staging', 'prod'] as const;

/** `cdk.json`'s context (the feature flags), so an app built in a test behaves as the CLI's. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(`${PROJECT_ROOT}cdk.json`, 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * The CDK app of one stage: the stack (`PayoutLinkTracker-<stage>`, account and region from
 * `CDK_DEFAULT_ACCOUNT`/`CDK_DEFAULT_REGION`) with cdk-nag's AWS Solutions, Serverless and PCI DSS
 * 3.2.1 checks on the whole app: an unacknowledged finding fails the synth.
 */
export function buildApp(stage: string, app = new App()): { app: App; stack: PayoutLinkTrackerStack } {
  if (!(DEPLOYED_STAGES as readonly string[]).includes(stage)) {
    throw new StageConfigError(
      `Stage "${stage}" is not deployable: use -c stage=${DEPLOYED_STAGES.join('|')}` +
        (stage === 'local' ? ' (the local stage runs with npm start).' : '.'),
    );
  }
  for (const [key, value] of Object.entries(cdkJsonContext())) {
    if (app.node.tryGetContext(key) === undefined) app.node.setContext(key, value);
  }
  const config = stageConfig(stage);
  const stack = new PayoutLinkTrackerStack(app, stackName(stage), {
    config,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
    new PCIDSS321Checks(app, { verbose: true }),
  );
  return { app, stack };
}

// `cdk synth|deploy -c stage=prod` runs this file (cdk.json): the stage defaults to dev.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = new App();
  const stage = String(app.node.tryGetContext('stage') ?? 'dev');
  buildApp(stage, app);
  app.synth();
}
