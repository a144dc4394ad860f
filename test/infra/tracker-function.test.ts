import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { stageConfig } from '#infra/config/stage-config.ts';
import { StageKey } from '#infra/constructs/stage-key.ts';
import { TrackerFunction } from '#infra/constructs/tracker-function.ts';

function house(environment?: Record<string, string>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'House');
  const config = stageConfig('staging');
  const fn = new TrackerFunction(stack, 'Fn', {
    name: 'track-link',
    entry: 'functions/track-link/handler.ts',
    config,
    stageKey: new StageKey(stack, 'Key', { config }),
    noDeadLetterQueueReason: 'test',
    description: 'test',
    memorySize: 128,
    timeout: Duration.seconds(3),
    environment,
  });
  return { fn, template: () => Template.fromStack(stack) };
}

describe('the house function', () => {
  it('merges the environment given with its own instead of replacing it', () => {
    const { fn, template } = house({ EXTRA: 'yes', POWERTOOLS_LOG_LEVEL: 'DEBUG' });
    fn.setEnv('LATER', 'too');
    const variables = template().findResources('AWS::Lambda::Function');
    const env = (Object.values(variables)[0] as { Properties: { Environment: { Variables: unknown } } })
      .Properties.Environment.Variables;
    expect(env).toEqual({
      STAGE: 'staging',
      POWERTOOLS_SERVICE_NAME: 'track-link',
      POWERTOOLS_METRICS_NAMESPACE: 'PayoutLinkTracker',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      NODE_OPTIONS: '--enable-source-maps',
      EXTRA: 'yes',
      LATER: 'too',
    });
  });

  it('runs nodejs24.x on arm64 with X-Ray, named for its stage, logging to its own group', () => {
    const { template } = house();
    template().hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'payout-link-tracker-staging-track-link',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: 128,
      Timeout: 3,
    });
    template().hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template().resourceCountIs('AWS::Logs::LogGroup', 1);
  });

  it('starts with no permission but writing its own logs and traces', () => {
    const { template } = house();
    const policies = Object.values(template().findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: { Action: string[] }[] } };
    }[];
    const actions = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s) => s.Action))
      .sort();
    expect(actions).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });
});
