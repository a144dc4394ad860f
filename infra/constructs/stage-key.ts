import { Arn, ArnFormat, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { logGroupName, stagePrefix } from '#shared/resource-names.ts';

/** The actions CloudWatch Logs needs on a log group's key, as AWS documents them for a key policy. */
export const LOGS_KEY_ACTIONS = [
  'kms:Encrypt*',
  'kms:Decrypt*',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  'kms:Describe*',
] as const;

/**
 * The stage's customer-managed key for data at rest that may hold payment or personal data: the
 * log groups and the secrets. Rotated yearly, kept with a `retain` stage. Its policy lets CloudWatch
 * Logs use it only for this stage's log groups (by the encryption context CloudWatch Logs sends);
 * Secrets Manager's use, and its callers', is granted by the `Secret` and by each function's role.
 */
export class StageKey extends Construct {
  readonly key: Key;
  private readonly config: StageConfig;
  private readonly logGroupArns: string[] = [];

  constructor(scope: Construct, id: string, props: { config: StageConfig }) {
    super(scope, id);
    const { config } = props;
    this.config = config;
    const stack = Stack.of(this);
    this.key = new Key(this, 'Key', {
      description: `${stagePrefix(config.stage)}: log groups and secrets`,
      enableKeyRotation: true,
      removalPolicy: config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchLogsForThisStageLogGroups',
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: [...LOGS_KEY_ACTIONS],
        resources: ['*'],
        conditions: {
          ArnEquals: {
            'kms:EncryptionContext:aws:logs:arn': Lazy.list({ produce: () => this.logGroupArns }),
          },
        },
      }),
    );
  }

  /** A log group named `/payout-link-tracker/<stage>/<name>`, encrypted with this key, with the stage's retention. */
  logGroup(scope: Construct, id: string, name: string): LogGroup {
    const logGroupNameValue = logGroupName(this.config.stage, name);
    this.logGroupArns.push(
      Arn.format(
        {
          service: 'logs',
          resource: 'log-group',
          resourceName: logGroupNameValue,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        },
        Stack.of(this),
      ),
    );
    return new LogGroup(scope, id, {
      logGroupName: logGroupNameValue,
      encryptionKey: this.key,
      retention: this.config.logRetentionDays as RetentionDays,
      removalPolicy: this.config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
