import { fileURLToPath } from 'node:url';
import { type Duration, Stack, Validations } from 'aws-cdk-lib';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Effect, type Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, type CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { houseEnvironment } from '#infra/config/function-environment.ts';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { type FunctionName, lambdaFunctionName } from '#shared/resource-names.ts';
import type { LinkTable, TableAccess } from './link-table.ts';
import type { StageKey } from './stage-key.ts';

/** The repository root: entries and the lock file are found from here, whatever the working directory. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * How every function is bundled: an ESM bundle, minified, with a linked source map, the AWS SDK
 * inside (nothing external). `cdk synth` hands these to esbuild; `npm run bench` bundles with the
 * same object (`test/bench/bundles.ts`), so what it measures is what deploys.
 */
export const HOUSE_BUNDLING = {
  format: OutputFormat.ESM,
  // ESM entry points first: the SDK's CommonJS build breaks inside an ESM bundle.
  mainFields: ['module', 'main'],
  target: 'node24',
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  externalModules: [],
  bundleAwsSDK: true,
  forceDockerBundling: false,
  tsconfig: `${PROJECT_ROOT}tsconfig.json`,
} satisfies BundlingOptions;

const OUTSIDE_VPC_REASON =
  'Nothing it calls is in a VPC: DynamoDB, EventBridge, SQS and Secrets Manager are public AWS endpoints reached over TLS with IAM, InstantPay and the webhook subscribers are on the internet. A VPC would isolate nothing and put NAT in the path of every call.';

export const INLINE_POLICY_REASON =
  "The role's own policy: made with the role, attached to it alone and deleted with it (AWS's advice for a strict one-to-one policy and identity); the infra tests pin its every action, resource and condition. A managed policy would be a reusable object that no other identity should use.";

/** The house functions' `NODE_OPTIONS`: readable stack traces, at a cost at cold start (docs/PERFORMANCE.md). */
export const HOUSE_NODE_OPTIONS = '--enable-source-maps';

export interface TrackerFunctionProps {
  /** The function's name inside the stage (`track-link`), also its Powertools service name. */
  readonly name: FunctionName;
  /** The handler's entry file, relative to the repository root (`functions/track-link/handler.ts`). */
  readonly entry: string;
  readonly config: StageConfig;
  /** Encrypts the function's log group (and the secrets it is granted). */
  readonly stageKey: StageKey;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  /**
   * Why the function has no dead-letter queue of its own (cdk-nag Serverless-LambdaDLQ): how its
   * failed invocations are kept or surfaced instead.
   */
  readonly noDeadLetterQueueReason: string;
  /** Added to the house environment (a key given here wins over the house default): `functionEnvironment`. */
  readonly environment?: Record<string, string>;
}

/**
 * The house Lambda function: `nodejs24.x` on arm64, an ESM bundle (minified, source maps, the AWS
 * SDK inside), X-Ray active, its own log group with the stage's retention, and a role that holds
 * nothing but what the `bind...`/`allow` helpers add.
 */
export class TrackerFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly functionName: string;
  /** The name inside the stage (`track-link`): the `service` dimension of its metrics and logs. */
  readonly serviceName: FunctionName;

  constructor(scope: Construct, id: string, props: TrackerFunctionProps) {
    super(scope, id);
    const { config } = props;
    this.serviceName = props.name;
    this.functionName = lambdaFunctionName(config.stage, props.name);

    this.logGroup = props.stageKey.logGroup(this, 'Logs', props.name);
    // Our own role instead of AWSLambdaBasicExecutionRole: logs go to this function's group only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${this.functionName}: exactly what the function uses`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      functionName: this.functionName,
      description: props.description,
      entry: `${PROJECT_ROOT}${props.entry}`,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        ...houseEnvironment(props.name, config),
        NODE_OPTIONS: HOUSE_NODE_OPTIONS,
        ...props.environment,
      },
      bundling: HOUSE_BUNDLING,
    });

    const cfnFunction = this.fn.node.defaultChild as CfnFunction;
    Validations.of(cfnFunction).acknowledge(
      { id: 'Serverless-LambdaDLQ', reason: props.noDeadLetterQueueReason },
      { id: 'PCI.DSS.321-LambdaInsideVPC', reason: OUTSIDE_VPC_REASON },
    );
    // Tracing.ACTIVE adds xray:PutTraceSegments/PutTelemetryRecords on "*" to the role's policy.
    const policy = this.role.node.tryFindChild('DefaultPolicy') as Policy | undefined;
    if (policy) {
      Validations.of(policy).acknowledge(
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'Only the X-Ray actions xray:PutTraceSegments and xray:PutTelemetryRecords take "*": they have no resource-level permissions (infra tests check that no other action has "*").',
        },
        { id: 'PCI.DSS.321-IAMNoInlinePolicy', reason: INLINE_POLICY_REASON },
      );
    }
  }

  /** Sets an environment variable (the house merge: one key, nothing else touched). */
  setEnv(key: string, value: string): this {
    this.fn.addEnvironment(key, value);
    return this;
  }

  /** Allows exactly these actions on exactly these resources, under these conditions if given. */
  allow(
    actions: readonly string[],
    resources: readonly string[],
    conditions?: Record<string, Record<string, unknown>>,
  ): this {
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: [...actions],
        resources: [...resources],
        ...(conditions ? { conditions } : {}),
      }),
    );
    return this;
  }

  /** The table actions (plus queries on the named indexes) this function uses. */
  grantTable(table: LinkTable, access: TableAccess): this {
    table.grant(this, access);
    return this;
  }

  /** `events:PutEvents` on that bus. */
  grantPutEvents(bus: IEventBus): this {
    return this.allow(['events:PutEvents'], [bus.eventBusArn]);
  }

  /** `secretsmanager:GetSecretValue` on the secret: the one call Powertools' SecretsProvider makes. */
  grantSecretRead(...secrets: ISecret[]): this {
    if (secrets.length === 0) return this;
    this.allow(
      ['secretsmanager:GetSecretValue'],
      secrets.map((secret) => secret.secretArn),
    );
    return this.allowSecretKey(['kms:Decrypt'], secrets);
  }

  /**
   * These actions on the secrets' customer-managed key, only through Secrets Manager and only for
   * these secrets (Secrets Manager puts the secret's ARN in the encryption context).
   */
  allowSecretKey(actions: readonly string[], secrets: readonly ISecret[]): this {
    const byKey = new Map<IKey, ISecret[]>();
    for (const secret of secrets) {
      if (secret.encryptionKey)
        byKey.set(secret.encryptionKey, [...(byKey.get(secret.encryptionKey) ?? []), secret]);
    }
    for (const [key, keySecrets] of byKey) {
      this.allow(actions, [key.keyArn], {
        StringEquals: {
          'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com`,
          'kms:EncryptionContext:SecretARN': keySecrets.map((secret) => secret.secretArn),
        },
      });
    }
    return this;
  }
}
