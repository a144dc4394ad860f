import { App, type Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp, DEPLOYED_STAGES } from '#infra/app.ts';
import { parseStageConfig, STAGES, stageConfig } from '#infra/config/stage-config.ts';
import { LOGS_KEY_ACTIONS } from '#infra/constructs/stage-key.ts';
import { registrySchemas } from '#infra/schemas/published-schemas.ts';
import { PayoutLinkTrackerStack } from '#infra/stack.ts';
import { loadDiscoveryConfig } from '#shared/config/discovery-config.ts';
import { loadRecheckConfig } from '#shared/config/recheck-config.ts';
import { loadRuntimeConfig } from '#shared/config/runtime-config.ts';
import { EVENT_SOURCE } from '#shared/link/link-event.ts';
import { METRICS } from '#shared/observability/metric-names.ts';
import { busName, webhookResourceNames } from '#shared/resource-names.ts';
import { DELIVERY_TTL_ATTRIBUTE, SUBSCRIBER_INDEX } from '#shared/store/delivery-table-definition.ts';
import { INDEXES, TABLE_KEYS } from '#shared/store/table-definition.ts';
import { loadDeliveryAdminConfig, loadDeliveryConfig } from '#shared/webhooks/delivery-config.ts';
import { subscriberRulePattern, WEBHOOK_QUEUE } from '#shared/webhooks/routing.ts';
import {
  asArray,
  describeCondition,
  describeResource,
  grants,
  grantsIf,
  grantsOfRole,
  identityStatements,
  only,
  type Resource,
  type Statement,
  synthStage,
} from './template-helpers.ts';

/** The cdk-nag packs the app runs as validation plugins (`infra/app.ts`). */
const NAG_PACKS = [AwsSolutionsChecks, ServerlessChecks, PCIDSS321Checks];

const HOUSE_ENV = [
  'STAGE',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  'POWERTOOLS_LOG_LEVEL',
  'NODE_OPTIONS',
];
const TRACKER_ENV = [
  ...HOUSE_ENV,
  'TABLE_NAME',
  'EVENT_BUS_NAME',
  'INSTANTPAY_SECRET_NAME',
  'MASK_PERSONAL_DATA',
  'UPSTREAM_TIMEOUT_MS',
  'SECRET_MAX_AGE_SECONDS',
  'SCHEDULE_SCALE',
];
const RECHECK_ENV = [
  ...TRACKER_ENV,
  'RECHECK_CONCURRENCY',
  'UPSTREAM_MAX_RPS',
  'RECHECK_PARALLEL_RUNS',
  'RECHECK_STOP_BEFORE_MS',
  'DISCOVERY_ENABLED',
];
const DISCOVER_ENV = [
  ...TRACKER_ENV,
  'DISCOVERY_STATUSES',
  'DISCOVERY_RECORDS_PER_PAGE',
  'DISCOVERY_CONCURRENCY',
  'DISCOVERY_STOP_BEFORE_MS',
  'UPSTREAM_MAX_RPS',
  'RECHECK_PARALLEL_RUNS',
];
const TRACK_LINK_ENV = [...TRACKER_ENV, 'DELIVERIES_TABLE_NAME', 'WEBHOOK_SUBSCRIBERS'];
const DELIVER_ENV = [
  ...HOUSE_ENV,
  'TABLE_NAME',
  'DELIVERIES_TABLE_NAME',
  'WEBHOOK_SUBSCRIBERS',
  'SECRET_MAX_AGE_SECONDS',
  'SCHEDULE_SCALE',
];
const XRAY_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];
const EXPECTED_ROUTES = [
  'ANY /links',
  'ANY /links/{proxy+}',
  'ANY /subscribers',
  'ANY /subscribers/{proxy+}',
  'DELETE /links/{linkId}',
  'GET /links',
  'GET /links/{linkId}',
  'GET /links/{linkId}/deliveries',
  'GET /links/{linkId}/events',
  'GET /subscribers',
  'POST /links',
  'POST /subscribers/{name}/enable',
  'POST /subscribers/{name}/resend',
];

/** Replaces every intrinsic in an environment with a plausible value, to parse it as the function will. */
function concreteEnvironment(variables: Record<string, unknown>): Record<string, string> {
  const concrete = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const intrinsic = value as Record<string, unknown>;
    if ('Fn::Join' in intrinsic) {
      const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
      return parts.map(concrete).join(separator);
    }
    return 'https://sqs.eu-west-1.amazonaws.com/123456789012/resolved';
  };
  return Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, concrete(value)]));
}

function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  const found: { path: string; id: string; reason: string }[] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        found.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
      }
    }
  }
  return found;
}

describe.each(DEPLOYED_STAGES)('the %s stack', (stage) => {
  const config = stageConfig(stage);
  const prefix = `payout-link-tracker-${stage}`;
  const synthesized = () => synthStage(stage);
  const template = () => synthesized().template;
  const fn = (name: string) =>
    only(template(), 'AWS::Lambda::Function', { FunctionName: `${prefix}-${name}` });
  const roleOf = (name: string) =>
    (fn(name).resource.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  /** The stack's two tables: the link table (`Links`) and the attempt log (`Deliveries`). */
  const tableOf = (construct: 'Links' | 'Deliveries') => {
    const found = Object.entries(template().findResources('AWS::DynamoDB::Table')).filter(([id]) =>
      id.startsWith(`${construct}Table`),
    );
    if (found.length !== 1) throw new Error(`Expected one ${construct} table, found ${found.length}`);
    return { id: found[0]![0], resource: found[0]![1] as Resource };
  };
  const tableId = () => tableOf('Links').id;
  const deliveriesId = () => tableOf('Deliveries').id;
  const busId = () => only(template(), 'AWS::Events::EventBus').id;
  const queueId = (queueName: string) => only(template(), 'AWS::SQS::Queue', { QueueName: queueName }).id;
  const secretId = (name: string) => only(template(), 'AWS::SecretsManager::Secret', { Name: name }).id;
  const stageKeyId = () =>
    only(template(), 'AWS::KMS::Key', { Description: `${prefix}: log groups and secrets` }).id;
  /** `actions` on the stage key through Secrets Manager, for exactly these secrets. */
  const secretKeyGrants = (actions: string[], ...secretNames: string[]) =>
    grantsIf(
      {
        StringEquals: {
          'kms:ViaService': 'secretsmanager.ref(AWS::Region).amazonaws.com',
          'kms:EncryptionContext:SecretARN': secretNames.map((name) => `ref(${secretId(name)})`),
        },
      },
      actions,
      `arn(${stageKeyId()})`,
    );
  const retained = config.removalPolicy === 'retain';
  const discovery = config.discovery.enabled;
  /** The functions of this stage: discover-links only where discovery is enabled. */
  const handlerNames = [
    'track-link',
    'recheck-pending',
    'deliver-webhooks',
    ...(discovery ? ['discover-links'] : []),
  ];

  it('is named for its stage', () => {
    expect(synthesized().stack.stackName).toBe(`PayoutLinkTracker-${stage}`);
  });

  describe('functions', () => {
    it('has the three functions on nodejs24.x, arm64, X-Ray active, each with the memory and timeout it needs', () => {
      const expected = [
        { name: 'track-link', memory: 512, timeout: 29 },
        { name: 'recheck-pending', memory: 512, timeout: 60 },
        { name: 'deliver-webhooks', memory: 256, timeout: 30 },
        ...(discovery ? [{ name: 'discover-links', memory: 512, timeout: 60 }] : []),
      ];
      for (const { name, memory, timeout } of expected) {
        expect(fn(name).resource.Properties).toMatchObject({
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          MemorySize: memory,
          Timeout: timeout,
          TracingConfig: { Mode: 'Active' },
        });
      }
      const seeders = config.subscribers.length > 0 ? 1 : 0;
      template().resourceCountIs('AWS::Lambda::Function', 3 + seeders + (discovery ? 1 : 0));
    });

    it('gives each function exactly the environment its handler reads, and it parses', () => {
      const env = (name: string) =>
        (fn(name).resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      const withBaseUrl = (keys: string[]) =>
        config.instantPayBaseUrl ? [...keys, 'INSTANTPAY_BASE_URL'] : keys;
      expect(Object.keys(env('track-link')).sort()).toEqual(withBaseUrl(TRACK_LINK_ENV).sort());
      expect(Object.keys(env('recheck-pending')).sort()).toEqual(withBaseUrl(RECHECK_ENV).sort());
      expect(Object.keys(env('deliver-webhooks')).sort()).toEqual([...DELIVER_ENV].sort());

      const recheck = concreteEnvironment(env('recheck-pending'));
      expect(recheck).toMatchObject({
        STAGE: stage,
        POWERTOOLS_SERVICE_NAME: 'recheck-pending',
        POWERTOOLS_METRICS_NAMESPACE: 'PayoutLinkTracker',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        INSTANTPAY_SECRET_NAME: config.instantPaySecretName,
        MASK_PERSONAL_DATA: String(config.maskPersonalData),
        RECHECK_CONCURRENCY: String(config.recheckConcurrency),
        UPSTREAM_MAX_RPS: String(config.upstreamMaxRps),
        RECHECK_PARALLEL_RUNS: String(config.recheckParallelRuns),
        RECHECK_STOP_BEFORE_MS: '15000',
        SCHEDULE_SCALE: '1',
      });
      expect(loadRuntimeConfig(recheck)).toMatchObject({ stage, maskPersonalData: config.maskPersonalData });
      expect(loadRecheckConfig(recheck)).toEqual({
        concurrency: config.recheckConcurrency,
        upstreamMaxRps: config.upstreamMaxRps,
        parallelRuns: config.recheckParallelRuns,
        stopBeforeMs: 15_000,
        // The stage's budget, one share per recheck run and one for discovery where it runs.
        runMaxRps: config.upstreamMaxRps / (config.recheckParallelRuns + (discovery ? 1 : 0)),
      });
      expect(recheck.DISCOVERY_ENABLED).toBe(String(discovery));
      if (discovery) {
        expect(Object.keys(env('discover-links')).sort()).toEqual(withBaseUrl(DISCOVER_ENV).sort());
        expect(loadDiscoveryConfig(concreteEnvironment(env('discover-links')))).toEqual({
          statuses: config.discovery.statuses ?? ['ISSUED', 'PROCESSING'],
          recordsPerPage: 100,
          concurrency: 8,
          stopBeforeMs: 15_000,
          runMaxRps: config.upstreamMaxRps / (config.recheckParallelRuns + 1),
        });
      }
      expect(loadRuntimeConfig(concreteEnvironment(env('track-link'))).instantPaySecretName).toBe(
        config.instantPaySecretName,
      );
      const delivery = loadDeliveryConfig(concreteEnvironment(env('deliver-webhooks')));
      expect(delivery.targets.map(({ name, url, secretName }) => ({ name, url, secretName }))).toEqual(
        config.subscribers.map(({ name, url, secretName }) => ({ name, url, secretName })),
      );
      expect(delivery.backoffScale).toBe(1);
      // Each subscriber's own queues, by URL and ARN, for the deliverer and the API alike.
      for (const name of ['deliver-webhooks', 'track-link']) {
        expect(env(name).DELIVERIES_TABLE_NAME, name).toEqual({ Ref: deliveriesId() });
        const targets = JSON.parse(describeResource(env(name).WEBHOOK_SUBSCRIBERS)) as Array<
          Record<string, string>
        >;
        expect(targets, name).toEqual(
          config.subscribers.map((subscriber) => {
            const names = webhookResourceNames(stage, subscriber.name);
            return {
              name: subscriber.name,
              url: subscriber.url,
              secretName: subscriber.secretName,
              ...(subscriber.statuses ? { statuses: subscriber.statuses } : {}),
              queueUrl: `ref(${queueId(names.queue)})`,
              queueArn: `arn(${queueId(names.queue)})`,
              deadLetterQueueUrl: `ref(${queueId(names.deadLetterQueue)})`,
              deadLetterQueueArn: `arn(${queueId(names.deadLetterQueue)})`,
            };
          }),
        );
      }
      expect(
        loadDeliveryAdminConfig(concreteEnvironment(env('track-link'))).targets.map((t) => t.name),
      ).toEqual(config.subscribers.map((subscriber) => subscriber.name));
    });

    it('gives every function its own log group with the stage retention, under the stage key', () => {
      for (const name of handlerNames) {
        const logGroup = (fn(name).resource.Properties.LoggingConfig as { LogGroup: unknown }).LogGroup;
        const id = (logGroup as { Ref: string }).Ref;
        const resource = template().toJSON().Resources[id] as Resource;
        expect(resource.Type).toBe('AWS::Logs::LogGroup');
        expect(resource.Properties.LogGroupName).toBe(`/payout-link-tracker/${stage}/${name}`);
        expect(resource.Properties.RetentionInDays).toBe(config.logRetentionDays);
        expect(resource.DeletionPolicy).toBe(retained ? 'Retain' : 'Delete');
      }
      template().allResourcesProperties('AWS::Logs::LogGroup', {
        RetentionInDays: config.logRetentionDays,
        KmsKeyId: { 'Fn::GetAtt': [stageKeyId(), 'Arn'] },
      });
    });

    it('bounds the deliverer per subscriber queue and reserves no account concurrency', () => {
      for (const mapping of Object.values(template().findResources('AWS::Lambda::EventSourceMapping'))) {
        expect((mapping as Resource).Properties.ScalingConfig).toEqual({
          MaximumConcurrency: config.webhookMaxConcurrency,
        });
      }
      for (const name of handlerNames) {
        expect(fn(name).resource.Properties.ReservedConcurrentExecutions).toBeUndefined();
      }
    });

    it('does not retry a failed scheduled run (the next run takes over), and keeps its record in the failed-runs queue', () => {
      template().resourceCountIs('AWS::Lambda::EventInvokeConfig', discovery ? 2 : 1);
      template().hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fn('recheck-pending').id },
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: config.scheduleRateMinutes * 60,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [queueId(`${prefix}-recheck-failed-runs`), 'Arn'] } },
        },
      });
    });
  });

  describe('HTTP API', () => {
    it('requires IAM authorization on every route, and has exactly the contract routes plus catch-alls', () => {
      const routes = Object.values(template().findResources('AWS::ApiGatewayV2::Route')) as Resource[];
      expect(routes.map((route) => route.Properties.RouteKey).sort()).toEqual(EXPECTED_ROUTES);
      for (const route of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
      template().resourcePropertiesCountIs('AWS::ApiGatewayV2::Route', { AuthorizationType: 'NONE' }, 0);
    });

    it('throttles the stage as configured and writes JSON access logs', () => {
      const stageResource = only(template(), 'AWS::ApiGatewayV2::Stage').resource;
      expect(stageResource.Properties).toMatchObject({
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingRateLimit: config.apiThrottle.rateLimit,
          ThrottlingBurstLimit: config.apiThrottle.burstLimit,
          DetailedMetricsEnabled: true,
        },
      });
      const settings = stageResource.Properties.AccessLogSettings as {
        Format: string;
        DestinationArn: unknown;
      };
      expect(JSON.parse(settings.Format)).toMatchObject({
        requestId: '$context.requestId',
        status: '$context.status',
        routeKey: '$context.routeKey',
        userArn: '$context.identity.userArn',
      });
      expect(describeResource(settings.DestinationArn)).toMatch(/^arn\(ApiAccessLogs/);
    });
  });

  describe('scheduler', () => {
    it(`runs recheck-pending every ${config.scheduleRateMinutes} minute(s) per shard group, with a retry policy and a DLQ`, () => {
      const schedules = (
        Object.values(template().findResources('AWS::Scheduler::Schedule')) as Resource[]
      ).filter((schedule) => String(schedule.Properties.Name).startsWith(`${prefix}-recheck-`));
      expect(schedules).toHaveLength(config.recheckParallelRuns);
      template().resourceCountIs(
        'AWS::Scheduler::Schedule',
        config.recheckParallelRuns + (discovery ? 1 : 0),
      );
      const dlq = queueId(`${prefix}-recheck-schedule-dlq`);
      schedules.forEach((schedule, shardGroup) => {
        expect(schedule.Properties).toMatchObject({
          ScheduleExpression:
            config.scheduleRateMinutes === 1
              ? 'rate(1 minute)'
              : `rate(${config.scheduleRateMinutes} minutes)`,
          State: 'ENABLED',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: { 'Fn::GetAtt': [fn('recheck-pending').id, 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
          },
        });
        const target = schedule.Properties.Target as { Input: string };
        expect(JSON.parse(target.Input)).toEqual({ shardGroup });
      });
    });

    it('lets the scheduler role invoke the recheck function and write to its DLQ, nothing else', () => {
      const schedule = Object.values(template().findResources('AWS::Scheduler::Schedule'))[0] as Resource;
      const roleArn = (schedule.Properties.Target as { RoleArn: { 'Fn::GetAtt': [string, string] } }).RoleArn;
      const roleId = roleArn['Fn::GetAtt'][0];
      expect(grantsOfRole(template(), roleId)).toEqual(
        [
          ...grants(['lambda:InvokeFunction'], `arn(${fn('recheck-pending').id})`),
          ...grants(['sqs:SendMessage'], `arn(${queueId(`${prefix}-recheck-schedule-dlq`)})`),
        ].sort(),
      );
      const role = template().toJSON().Resources[roleId] as Resource;
      expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('scheduler.amazonaws.com');
      expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
    });
  });

  describe('discovery', () => {
    it(
      discovery
        ? 'runs discover-links on its own schedule, with a retry policy and a DLQ'
        : 'has no discovery function, schedule or queue (the stage does not enable it)',
      () => {
        const schedules = Object.values(
          template().findResources('AWS::Scheduler::Schedule', {
            Properties: { Name: `${prefix}-discovery` },
          }),
        ) as Resource[];
        if (!discovery) {
          expect(schedules).toHaveLength(0);
          expect(
            Object.keys(
              template().findResources('AWS::Lambda::Function', {
                Properties: { FunctionName: `${prefix}-discover-links` },
              }),
            ),
          ).toHaveLength(0);
          expect(JSON.stringify(template().toJSON())).not.toContain('discovery-');
          return;
        }
        const everyMinutes = config.discovery.everyMinutes ?? 5;
        expect(schedules).toHaveLength(1);
        expect(schedules[0]!.Properties).toMatchObject({
          ScheduleExpression: everyMinutes === 1 ? 'rate(1 minute)' : `rate(${everyMinutes} minutes)`,
          State: 'ENABLED',
          Target: {
            Arn: { 'Fn::GetAtt': [fn('discover-links').id, 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId(`${prefix}-discovery-schedule-dlq`), 'Arn'] } },
          },
        });
        template().hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
          FunctionName: { Ref: fn('discover-links').id },
          MaximumRetryAttempts: 0,
          DestinationConfig: {
            OnFailure: { Destination: { 'Fn::GetAtt': [queueId(`${prefix}-discovery-failed-runs`), 'Arn'] } },
          },
        });
        const roleArn = (schedules[0]!.Properties.Target as { RoleArn: { 'Fn::GetAtt': [string, string] } })
          .RoleArn;
        const roleId = roleArn['Fn::GetAtt'][0];
        expect(grantsOfRole(template(), roleId)).toEqual(
          [
            ...grants(['lambda:InvokeFunction'], `arn(${fn('discover-links').id})`),
            ...grants(['sqs:SendMessage'], `arn(${queueId(`${prefix}-discovery-schedule-dlq`)})`),
          ].sort(),
        );
        const trust = JSON.stringify(
          (template().toJSON().Resources[roleId] as Resource).Properties.AssumeRolePolicyDocument,
        );
        expect(trust).toContain('scheduler.amazonaws.com');
        expect(trust).toContain('aws:SourceAccount');
        expect(trust).toContain('aws:SourceArn');
      },
    );

    it.runIf(discovery)(
      'gives discover-links its table items (cursor, known ids, registrations), the bus and the InstantPay secret, no index',
      () => {
        const table = `arn(${tableId()})`;
        const logGroup = (
          fn('discover-links').resource.Properties.LoggingConfig as { LogGroup: { Ref: string } }
        ).LogGroup.Ref;
        expect(grantsOfRole(template(), roleOf('discover-links'))).toEqual(
          [
            ...grants(['logs:CreateLogStream', 'logs:PutLogEvents'], `arn(${logGroup})`),
            ...grants(XRAY_ACTIONS, '*'),
            ...grants(
              ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem'],
              table,
            ),
            ...grants(['events:PutEvents'], `arn(${busId()})`),
            ...grants(['secretsmanager:GetSecretValue'], `ref(${secretId(config.instantPaySecretName)})`),
            ...secretKeyGrants(['kms:Decrypt'], config.instantPaySecretName),
            ...grants(['sqs:SendMessage'], `arn(${queueId(`${prefix}-discovery-failed-runs`)})`),
          ].sort(),
        );
      },
    );
  });

  describe('table', () => {
    it('is built from the shared keys and indexes: on demand, PITR, encrypted', () => {
      const table = tableOf('Links').resource;
      const type = (t: 'S' | 'N') => t;
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey.name, KeyType: 'RANGE' },
        ],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
      const attributes = new Map<string, string>([
        [TABLE_KEYS.partitionKey.name, type(TABLE_KEYS.partitionKey.type)],
        [TABLE_KEYS.sortKey.name, type(TABLE_KEYS.sortKey.type)],
        ...INDEXES.flatMap((index) => [
          [index.partitionKey.name, index.partitionKey.type] as [string, string],
          ...(index.sortKey ? [[index.sortKey.name, index.sortKey.type] as [string, string]] : []),
        ]),
      ]);
      const definitions = table.Properties.AttributeDefinitions as {
        AttributeName: string;
        AttributeType: string;
      }[];
      expect(new Map(definitions.map((d) => [d.AttributeName, d.AttributeType]))).toEqual(attributes);
      const indexes = table.Properties.GlobalSecondaryIndexes as Record<string, unknown>[];
      expect(indexes).toEqual(
        INDEXES.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
            ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
          ],
          Projection: { ProjectionType: index.projection },
        })),
      );
    });

    it(retained ? 'is retained and protected from deletion' : 'is deleted with the stack', () => {
      for (const construct of ['Links', 'Deliveries'] as const) {
        const table = tableOf(construct).resource;
        expect(table.DeletionPolicy, construct).toBe(retained ? 'Retain' : 'Delete');
        expect(table.UpdateReplacePolicy, construct).toBe(retained ? 'Retain' : 'Delete');
        expect(table.Properties.DeletionProtectionEnabled ?? false, construct).toBe(retained);
      }
      expect(stage === 'prod').toBe(retained);
      template().resourceCountIs('AWS::DynamoDB::Table', 2);
    });
  });

  describe('attempt log', () => {
    it('is a table of its own from the shared definition: on demand, PITR, encrypted, items expiring by TTL, the bySubscriber index keys only', () => {
      expect(tableOf('Deliveries').resource.Properties).toEqual({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: SUBSCRIBER_INDEX.partitionKey.name, AttributeType: 'S' },
          { AttributeName: SUBSCRIBER_INDEX.sortKey.name, AttributeType: 'N' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'bySubscriber',
            KeySchema: [
              { AttributeName: 'subscriberOutcome', KeyType: 'HASH' },
              { AttributeName: 'at', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
        TimeToLiveSpecification: { AttributeName: DELIVERY_TTL_ATTRIBUTE, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: retained,
        Tags: expect.any(Array),
      });
      expect(DELIVERY_TTL_ATTRIBUTE).toBe('expiresAt');
    });
  });

  describe('events', () => {
    it('has the bus and an archive of the tracker events kept as the stage says', () => {
      template().hasResourceProperties('AWS::Events::EventBus', { Name: busName(stage) });
      template().hasResourceProperties('AWS::Events::Archive', {
        SourceArn: { 'Fn::GetAtt': [busId(), 'Arn'] },
        EventPattern: { source: [EVENT_SOURCE] },
        RetentionDays: config.archiveRetentionDays,
      });
    });

    it('registers both event schemas in a schema registry, as generated from the code', () => {
      template().resourceCountIs('AWS::EventSchemas::Registry', 1);
      template().resourceCountIs('AWS::EventSchemas::Schema', 2);
      for (const schema of registrySchemas()) {
        template().hasResourceProperties('AWS::EventSchemas::Schema', {
          SchemaName: schema.name,
          Type: 'JSONSchemaDraft4',
          Content: schema.content,
        });
      }
    });

    it('has one rule, queue and DLQ per subscriber, the rule carrying the subscriber filter', () => {
      template().resourceCountIs('AWS::Events::Rule', config.subscribers.length);
      for (const subscriber of config.subscribers) {
        const names = webhookResourceNames(stage, subscriber.name);
        const queue = queueId(names.queue);
        const dlq = queueId(names.deadLetterQueue);
        const ruleDlq = queueId(names.ruleDeadLetterQueue);
        const rule = only(template(), 'AWS::Events::Rule', { Name: names.rule }).resource;
        expect(rule.Properties.EventPattern).toEqual(subscriberRulePattern(subscriber));
        expect(rule.Properties).toMatchObject({
          EventBusName: { Ref: busId() },
          Targets: [
            {
              Arn: { 'Fn::GetAtt': [queue, 'Arn'] },
              DeadLetterConfig: { Arn: { 'Fn::GetAtt': [ruleDlq, 'Arn'] } },
            },
          ],
        });
        template().hasResourceProperties('AWS::SQS::Queue', {
          QueueName: names.queue,
          VisibilityTimeout: WEBHOOK_QUEUE.visibilityTimeoutSeconds,
          MessageRetentionPeriod: WEBHOOK_QUEUE.retentionSeconds,
          RedrivePolicy: {
            deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] },
            maxReceiveCount: WEBHOOK_QUEUE.maxReceiveCount,
          },
        });
        template().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
          FunctionName: { Ref: fn('deliver-webhooks').id },
          BatchSize: WEBHOOK_QUEUE.batchSize,
          MaximumBatchingWindowInSeconds: WEBHOOK_QUEUE.maxBatchingWindowSeconds,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: config.webhookMaxConcurrency },
        });
      }
      template().resourceCountIs('AWS::Lambda::EventSourceMapping', config.subscribers.length);
      if (stage === 'prod') {
        const rule = only(template(), 'AWS::Events::Rule').resource;
        expect(rule.Properties.EventPattern).toMatchObject({
          detail: { status: ['CLAIMED', 'CANCELLED', 'EXPIRED'] },
        });
      }
    });

    it('lets each rule, and nothing else, send to its queue and its rule DLQ', () => {
      const allowsOf = (queue: string) =>
        (Object.values(template().findResources('AWS::SQS::QueuePolicy')) as Resource[])
          .filter((policy) => JSON.stringify(policy.Properties.Queues) === JSON.stringify([{ Ref: queue }]))
          .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
          .filter((statement) => statement.Effect === 'Allow')
          .map(
            (statement) =>
              `${JSON.stringify(statement.Principal)} ${asArray(statement.Action).sort().join(',')} on ${asArray(statement.Resource).map(describeResource).join(',')} if ${describeCondition(statement.Condition)}`,
          );
      for (const subscriber of config.subscribers) {
        const names = webhookResourceNames(stage, subscriber.name);
        const rule = only(template(), 'AWS::Events::Rule', { Name: names.rule }).id;
        for (const queue of [queueId(names.queue), queueId(names.ruleDeadLetterQueue)]) {
          expect(allowsOf(queue)).toEqual([
            `{"Service":"events.amazonaws.com"} sqs:SendMessage on arn(${queue}) if ArnEquals aws:SourceArn=[arn(${rule})]`,
          ]);
        }
        expect(allowsOf(queueId(names.deadLetterQueue))).toEqual([]);
      }
      expect(allowsOf(queueId(`${prefix}-recheck-schedule-dlq`))).toEqual([]);
      expect(allowsOf(queueId(`${prefix}-recheck-failed-runs`))).toEqual([]);
    });

    it('gives every rule target an explicit 24 h / 185 attempts retry policy and its own DLQ', () => {
      const rules = Object.values(template().findResources('AWS::Events::Rule')) as Resource[];
      const dlqs = new Set<string>();
      for (const rule of rules) {
        for (const target of rule.Properties.Targets as Record<string, unknown>[]) {
          expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 });
          const dlq = describeResource((target.DeadLetterConfig as { Arn: unknown }).Arn);
          expect(dlqs.has(dlq)).toBe(false);
          dlqs.add(dlq);
        }
      }
    });

    it('encrypts every queue and refuses plain HTTP on each', () => {
      const queues = template().findResources('AWS::SQS::Queue');
      for (const [id, queue] of Object.entries(queues)) {
        expect((queue as Resource).Properties.SqsManagedSseEnabled).toBe(true);
        expect((queue as Resource).DeletionPolicy).toBe(retained ? 'Retain' : 'Delete');
        template().hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: Match.arrayWith([{ Ref: id }]),
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
      expect(Object.keys(queues)).toHaveLength(2 + 3 * config.subscribers.length + (discovery ? 2 : 0));
    });
  });

  describe('secrets', () => {
    it('creates the InstantPay secret by name with the placeholder the functions reject', () => {
      template().hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: config.instantPaySecretName,
        SecretString: '{"placeholder":true}',
      });
    });

    it('creates one secret per subscriber, seeded with a whsec_ value by the custom resource', () => {
      template().resourceCountIs('AWS::SecretsManager::Secret', 1 + config.subscribers.length);
      template().resourceCountIs('Custom::WebhookSecretSeed', config.subscribers.length);
      for (const subscriber of config.subscribers) {
        const secret = secretId(subscriber.secretName);
        template().hasResourceProperties('Custom::WebhookSecretSeed', {
          ServiceToken: { 'Fn::GetAtt': [fn('webhook-secret-seed').id, 'Arn'] },
          SecretId: { Ref: secret },
        });
      }
      for (const secret of Object.values(template().findResources('AWS::SecretsManager::Secret'))) {
        expect((secret as Resource).DeletionPolicy).toBe(retained ? 'Retain' : 'Delete');
      }
    });
  });

  describe('stage key', () => {
    const keyStatements = () => {
      const key = template().toJSON().Resources[stageKeyId()] as Resource;
      const policy = key.Properties.KeyPolicy as { Statement: Statement[] };
      return policy.Statement.map((statement) => {
        const principal = statement.Principal as { AWS?: unknown; Service?: unknown };
        const who = principal.AWS
          ? describeResource(principal.AWS)
          : `service ${describeResource(principal.Service)}`;
        const condition = statement.Condition ? ` if ${describeCondition(statement.Condition)}` : '';
        return `${statement.Effect} ${who}: ${asArray(statement.Action).sort().join(',')}${condition}`;
      }).sort();
    };

    it('is rotated and kept with a retain stage', () => {
      const key = template().toJSON().Resources[stageKeyId()] as Resource;
      expect(key.Properties.EnableKeyRotation).toBe(true);
      expect(key.DeletionPolicy).toBe(retained ? 'Retain' : 'Delete');
    });

    it('encrypts every secret and every log group', () => {
      const keyArn = { 'Fn::GetAtt': [stageKeyId(), 'Arn'] };
      for (const secret of Object.values(template().findResources('AWS::SecretsManager::Secret'))) {
        expect((secret as Resource).Properties.KmsKeyId).toEqual(keyArn);
      }
      const logGroups = Object.values(template().findResources('AWS::Logs::LogGroup')) as Resource[];
      expect(logGroups).toHaveLength(4 + (config.subscribers.length > 0 ? 1 : 0) + (discovery ? 1 : 0));
      for (const logGroup of logGroups) expect(logGroup.Properties.KmsKeyId).toEqual(keyArn);
    });

    it('lets CloudWatch Logs use it for exactly the stage log groups, and Secrets Manager for the account', () => {
      const root = 'arn:ref(AWS::Partition):iam::ref(AWS::AccountId):root';
      const logGroupArns = (Object.values(template().findResources('AWS::Logs::LogGroup')) as Resource[]).map(
        (logGroup) =>
          `arn:ref(AWS::Partition):logs:ref(AWS::Region):ref(AWS::AccountId):log-group:${String(logGroup.Properties.LogGroupName)}`,
      );
      expect(keyStatements()).toEqual(
        [
          `Allow ${root}: kms:*`,
          `Allow service logs.ref(AWS::Region).amazonaws.com: ${[...LOGS_KEY_ACTIONS].sort().join(',')} if ${describeCondition(
            { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': logGroupArns } },
          )}`,
          `Allow ${root}: kms:CreateGrant,kms:Decrypt,kms:DescribeKey,kms:Encrypt,kms:GenerateDataKey*,kms:ReEncrypt* if ${describeCondition(
            { StringEquals: { 'kms:ViaService': 'secretsmanager.ref(AWS::Region).amazonaws.com' } },
          )}`,
        ].sort(),
      );
    });
  });

  describe('monitoring', () => {
    it('alarms on every DLQ, function errors and throttles, upstream error rate, the oldest due link, the outbox and API 5xx', () => {
      const dlqLabels = [
        'recheck-schedule',
        'recheck-failed-runs',
        ...(discovery ? ['discovery-schedule', 'discovery-failed-runs'] : []),
        ...config.subscribers.flatMap((s) => [
          `webhook-${s.name}-deliveries`,
          `webhook-${s.name}-rule-target`,
        ]),
      ];
      const functions = handlerNames;
      const expected = [
        ...dlqLabels.map((label) => `${prefix}-dlq-${label}`),
        ...functions.flatMap((name) => [`${prefix}-${name}-errors`, `${prefix}-${name}-throttles`]),
        `${prefix}-upstream-error-rate`,
        `${prefix}-oldest-due-link`,
        `${prefix}-outbox-oldest-unpublished`,
        `${prefix}-outbox-quarantined`,
        `${prefix}-api-5xx-rate`,
      ];
      const alarms = Object.values(template().findResources('AWS::CloudWatch::Alarm')) as Resource[];
      expect(alarms.map((alarm) => alarm.Properties.AlarmName).sort()).toEqual(expected.sort());
      const topic = only(template(), 'AWS::SNS::Topic').id;
      for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
      for (const label of dlqLabels) {
        template().hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `${prefix}-dlq-${label}`,
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
      template().hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `${prefix}-oldest-due-link`,
        Namespace: 'PayoutLinkTracker',
        MetricName: 'OldestDueAgeSeconds',
        Dimensions: [
          { Name: 'service', Value: 'recheck-pending' },
          { Name: 'stage', Value: stage },
        ],
        Threshold: 2 * config.scheduleRateMinutes * 60,
      });
      for (const [name, metric, threshold] of [
        ['outbox-oldest-unpublished', 'OldestUnpublishedAgeSeconds', 900],
        ['outbox-quarantined', 'OutboxQuarantined', 0],
      ] as const) {
        template().hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `${prefix}-${name}`,
          Namespace: 'PayoutLinkTracker',
          MetricName: metric,
          Dimensions: [
            { Name: 'service', Value: 'recheck-pending' },
            { Name: 'stage', Value: stage },
          ],
          Statistic: 'Maximum',
          Threshold: threshold,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      }
      const rate = only(template(), 'AWS::CloudWatch::Alarm', { AlarmName: `${prefix}-upstream-error-rate` });
      const expressions = JSON.stringify(rate.resource.Properties.Metrics);
      expect(expressions).toContain('UpstreamErrors');
      expect(expressions).toContain('LinksChecked');
      const api = JSON.stringify(
        only(template(), 'AWS::CloudWatch::Alarm', { AlarmName: `${prefix}-api-5xx-rate` }).resource
          .Properties.Metrics,
      );
      expect(api).toContain('"5xx"');
      expect(api).toContain('"Count"');
    });

    it('reads only the metrics the functions write, each under the function that writes it, and graphs them all', () => {
      const written = [
        ...[
          'LinksChecked',
          'TransitionsRecorded',
          'UpstreamErrors',
          'DueBacklog',
          'OldestDueAgeSeconds',
          'Republished',
          'OutboxBacklog',
          'OldestUnpublishedAgeSeconds',
          'OutboxQuarantined',
          'DetectionDelaySeconds',
          'UpstreamFinalConflicts',
        ].map((name) => `recheck-pending ${name}`),
        'track-link UpstreamFinalConflicts',
        ...['WebhookLatencyMs', 'WebhookDelivered', 'WebhookFailed'].map(
          (name) => `deliver-webhooks ${name}`,
        ),
        ...['LinksDiscovered', 'DiscoveryPagesRead'].map((name) => `discover-links ${name}`),
      ];
      expect([...new Set(Object.values(METRICS).map((metric) => metric.name))].sort()).toEqual(
        [...new Set(written.map((pair) => pair.split(' ')[1]))].sort(),
      );
      const ours = (metric: { Namespace?: string; MetricName?: string; Dimensions?: unknown }) =>
        metric.Namespace === 'PayoutLinkTracker'
          ? [`${(metric.Dimensions as { Name: string; Value: string }[])[0]?.Value} ${metric.MetricName}`]
          : [];
      const alarmed = (
        Object.values(template().findResources('AWS::CloudWatch::Alarm')) as Resource[]
      ).flatMap(({ Properties: alarm }) => [
        ...ours(alarm),
        ...((alarm.Metrics ?? []) as { MetricStat?: { Metric: Record<string, unknown> } }[]).flatMap(
          (query) => (query.MetricStat ? ours(query.MetricStat.Metric) : []),
        ),
      ]);
      const body = only(template(), 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody as {
        'Fn::Join': [string, unknown[]];
      };
      const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '')).join('');
      const graphed = [
        ...text.matchAll(/\["PayoutLinkTracker","(\w+)","service","([\w-]+)","stage","([\w-]+)"/g),
      ];
      for (const [, , , graphedStage] of graphed) expect(graphedStage).toBe(stage);
      const graphedPairs = new Set(graphed.map(([, name, service]) => `${service} ${name}`));
      for (const pair of alarmed) expect(written).toContain(pair);
      // A stage without subscribers has no webhook to graph.
      // A stage without subscribers has no webhook to graph; one without discovery, no discovery row.
      const expected = written.filter(
        (pair) =>
          (config.subscribers.length > 0 || !pair.startsWith('deliver')) &&
          (discovery || !pair.startsWith('discover')),
      );
      expect([...graphedPairs].sort()).toEqual(expected.sort());
    });

    it('sends alarms to an encrypted topic that refuses plain HTTP, and has a dashboard', () => {
      const topic = only(template(), 'AWS::SNS::Topic', { TopicName: `${prefix}-alarms` }).resource;
      expect(topic.Properties.KmsMasterKeyId).toBeDefined();
      template().hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template().hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
      template().resourceCountIs('AWS::SNS::Subscription', config.alarmEmail ? 1 : 0);
      template().hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: prefix });
    });
  });

  describe('outputs', () => {
    it('gives the API URL, bus name and ARN, table name, secret names and dashboard URL', () => {
      const outputs = Object.keys(template().toJSON().Outputs as Record<string, unknown>).sort();
      expect(outputs).toEqual(
        [
          'AlarmTopicArn',
          'ApiUrl',
          'DashboardUrl',
          'EventBusArn',
          'EventBusName',
          'InstantPaySecretName',
          'TableName',
          'DeliveriesTableName',
          ...(config.subscribers.length > 0 ? ['WebhookSecretNames'] : []),
        ].sort(),
      );
    });
  });

  describe('IAM least privilege', () => {
    it('has no "*" or "service:*" action, and "*" resources only for the X-Ray actions', () => {
      const statements = identityStatements(template());
      expect(statements.length).toBeGreaterThan(0);
      for (const { owner, statement } of statements) {
        for (const action of asArray(statement.Action)) {
          expect(action, `${owner}: ${action}`).not.toMatch(/\*/);
        }
        if (asArray(statement.Resource).includes('*')) {
          expect(asArray(statement.Action).sort(), owner).toEqual(XRAY_ACTIONS);
        }
        for (const resource of asArray(statement.Resource).map(describeResource)) {
          if (resource !== '*') expect(resource, owner).not.toMatch(/\*/);
        }
        // A condition narrows a grant only if it names exact values: no pattern, no wildcard.
        if (statement.Condition !== undefined) {
          expect(Object.keys(statement.Condition as object).join(), owner).not.toMatch(/Like|IfExists/);
          expect(describeCondition(statement.Condition), owner).not.toMatch(/[*?]/);
        }
      }
      for (const role of Object.values(template().findResources('AWS::IAM::Role')) as Resource[]) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });

    it("gives track-link its table items, the byState, byStatus, byReference and byEventId indexes, the attempt log's reads, each subscriber's queue (send) and DLQ (count, move back), the bus and the InstantPay secret", () => {
      const table = `arn(${tableId()})`;
      const deliveries = `arn(${deliveriesId()})`;
      const role = roleOf('track-link');
      expect(grantsOfRole(template(), role)).toEqual(
        [
          ...grants(['logs:CreateLogStream', 'logs:PutLogEvents'], `arn(${logGroupOf('track-link')})`),
          ...grants(XRAY_ACTIONS, '*'),
          ...grants(
            [
              'dynamodb:BatchGetItem',
              'dynamodb:GetItem',
              'dynamodb:PutItem',
              'dynamodb:Query',
              'dynamodb:UpdateItem',
            ],
            table,
          ),
          ...grants(
            ['dynamodb:Query'],
            `${table}/index/byState`,
            `${table}/index/byStatus`,
            `${table}/index/byReference`,
            `${table}/index/byEventId`,
          ),
          // The attempt log: a link's deliveries, and subscriber health from its index; no write.
          ...grants(['dynamodb:Query'], deliveries, `${deliveries}/index/bySubscriber`),
          ...config.subscribers.flatMap((subscriber) => {
            const names = webhookResourceNames(stage, subscriber.name);
            return [
              // Resend: onto the subscriber's own queue only.
              ...grants(['sqs:SendMessage'], `arn(${queueId(names.queue)})`),
              // Enable: count the dead letters, and the move task's reads and deletes on the DLQ only.
              ...grants(
                [
                  'sqs:DeleteMessage',
                  'sqs:GetQueueAttributes',
                  'sqs:ListMessageMoveTasks',
                  'sqs:ReceiveMessage',
                  'sqs:StartMessageMoveTask',
                ],
                `arn(${queueId(names.deadLetterQueue)})`,
              ),
            ];
          }),
          ...grants(['events:PutEvents'], `arn(${busId()})`),
          ...grants(['secretsmanager:GetSecretValue'], `ref(${secretId(config.instantPaySecretName)})`),
          ...secretKeyGrants(['kms:Decrypt'], config.instantPaySecretName),
        ].sort(),
      );
    });

    it('gives recheck-pending its table items, the due and outbox indexes, the bus and the InstantPay secret', () => {
      const table = `arn(${tableId()})`;
      expect(grantsOfRole(template(), roleOf('recheck-pending'))).toEqual(
        [
          ...grants(['logs:CreateLogStream', 'logs:PutLogEvents'], `arn(${logGroupOf('recheck-pending')})`),
          ...grants(XRAY_ACTIONS, '*'),
          ...grants(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], table),
          ...grants(['dynamodb:Query'], `${table}/index/due`, `${table}/index/outbox`),
          ...grants(['events:PutEvents'], `arn(${busId()})`),
          ...grants(['secretsmanager:GetSecretValue'], `ref(${secretId(config.instantPaySecretName)})`),
          ...secretKeyGrants(['kms:Decrypt'], config.instantPaySecretName),
          ...grants(['sqs:SendMessage'], `arn(${queueId(`${prefix}-recheck-failed-runs`)})`),
        ].sort(),
      );
    });

    it("gives deliver-webhooks its subscriber queues, DLQs and secrets, only its subscribers' state items, and one write on the attempt log", () => {
      const consume = [
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:ReceiveMessage',
      ];
      expect(grantsOfRole(template(), roleOf('deliver-webhooks'))).toEqual(
        [
          ...grants(['logs:CreateLogStream', 'logs:PutLogEvents'], `arn(${logGroupOf('deliver-webhooks')})`),
          ...grants(XRAY_ACTIONS, '*'),
          // One PutItem per attempt on the attempt log; no read, no update, no condition over links.
          ...grants(['dynamodb:PutItem'], `arn(${deliveriesId()})`),
          // Its own state items only (`SUBSCRIBER#<name>`, shared/webhooks/subscriber-state.ts): get and set.
          ...(config.subscribers.length > 0
            ? grantsIf(
                {
                  'ForAllValues:StringEquals': {
                    'dynamodb:LeadingKeys': config.subscribers.map((s) => `SUBSCRIBER#${s.name}`),
                  },
                },
                ['dynamodb:GetItem', 'dynamodb:PutItem'],
                `arn(${tableId()})`,
              )
            : []),
          ...config.subscribers.flatMap((subscriber) => {
            const names = webhookResourceNames(stage, subscriber.name);
            return [
              ...grants(consume, `arn(${queueId(names.queue)})`),
              ...grants(['sqs:SendMessage'], `arn(${queueId(names.deadLetterQueue)})`),
              ...grants(['secretsmanager:GetSecretValue'], `ref(${secretId(subscriber.secretName)})`),
              ...secretKeyGrants(['kms:Decrypt'], subscriber.secretName),
            ];
          }),
        ].sort(),
      );
    });

    it('lets the secret seed read and write the subscriber secrets only', () => {
      if (config.subscribers.length === 0) {
        template().resourceCountIs('Custom::WebhookSecretSeed', 0);
        return;
      }
      expect(grantsOfRole(template(), roleOf('webhook-secret-seed'))).toEqual(
        [
          ...grants(
            ['logs:CreateLogStream', 'logs:PutLogEvents'],
            `arn(${logGroupOf('webhook-secret-seed')})`,
          ),
          ...grants(XRAY_ACTIONS, '*'),
          ...config.subscribers.flatMap((subscriber) => [
            ...grants(
              ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
              `ref(${secretId(subscriber.secretName)})`,
            ),
            ...secretKeyGrants(['kms:Decrypt', 'kms:GenerateDataKey'], subscriber.secretName),
          ]),
        ].sort(),
      );
    });
  });

  describe('cdk-nag AwsSolutions, Serverless and PCI DSS 3.2.1', () => {
    it.each(NAG_PACKS.map((pack) => [pack.name, pack] as const))(
      '%s finds nothing unacknowledged',
      (_, Pack) => {
        const { app, stack } = synthesized();
        const report = new Pack(app).validateScope(stack);
        const findings = report.violations.flatMap((v) =>
          v.violatingResources.map((resource) => `${v.ruleName} ${resource.constructPath}`),
        );
        expect(findings).toEqual([]);
        const annotations = Annotations.fromStack(stack);
        const pattern = Match.stringLikeRegexp('(AwsSolutions|Serverless|PCI\\.DSS\\.321)-.*');
        expect(annotations.findError('*', pattern)).toEqual([]);
        expect(annotations.findWarning('*', pattern)).toEqual([]);
      },
    );

    it.each([
      [
        'AwsSolutions',
        (stack: Stack) => new Queue(stack, 'Plain', { encryption: QueueEncryption.UNENCRYPTED }),
        /AwsSolutions-SQS/,
      ],
      [
        'Serverless',
        (stack: Stack) => new Queue(stack, 'NoRedrive', { enforceSSL: true }),
        /Serverless-SQSRedrivePolicy/,
      ],
      [
        'PCI DSS',
        (stack: Stack) => new LogGroup(stack, 'PlainLogs', { retention: RetentionDays.ONE_WEEK }),
        /PCI\.DSS\.321-CloudWatchLogGroupEncrypted/,
      ],
    ])(
      'runs the %s pack as a validation plugin of the app, so a new finding fails the synth',
      (_, add, finding) => {
        const { app, stack } = buildApp(stage, new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
        add(stack);
        expect(() => app.synth()).toThrow(finding);
      },
    );

    it('acknowledges only the expected findings, each at its resource with a reason', () => {
      const acknowledged = acknowledgements(synthesized().app);
      const subscribers = config.subscribers.length;
      const functions = 3 + (subscribers > 0 ? 1 : 0) + (discovery ? 1 : 0);
      const discoveryQueues = discovery ? 2 : 0;
      // Where each acknowledgement may sit, and how many there are in this stage.
      const expected: Record<string, { at: RegExp; count: number }> = {
        'AwsSolutions-IAM5[Resource::*]': { at: /\/Role\/DefaultPolicy$/, count: functions },
        'AwsSolutions-SMG4': { at: /\/Secrets\/(InstantPay|Webhook-[a-z0-9-]+)$/, count: 1 + subscribers },
        'AwsSolutions-SQS3': {
          at: /(DeadLetters|FailedRuns)\/Resource$/,
          count: 2 + 2 * subscribers + discoveryQueues,
        },
        'Serverless-SQSRedrivePolicy': {
          at: /(DeadLetters|FailedRuns)\/Resource$/,
          count: 2 + 2 * subscribers + discoveryQueues,
        },
        'Serverless-LambdaDLQ': { at: /\/Function\/Resource$/, count: functions },
        'Serverless-LambdaEventSourceMappingDestination': {
          at: /\/DeliverWebhooks\/Function\/SqsEventSource:[A-Za-z0-9]+\/Resource$/,
          count: subscribers,
        },
        'PCI.DSS.321-LambdaInsideVPC': { at: /\/Function\/Resource$/, count: functions },
        'PCI.DSS.321-IAMNoInlinePolicy': {
          at: /(\/Role\/DefaultPolicy|\/(Recheck|Discovery)Schedule\/Role\/Resource)$/,
          count: functions + 1 + (discovery ? 1 : 0),
        },
      };
      for (const { path, id, reason } of acknowledged) {
        expect(Object.keys(expected), `unexpected acknowledgement ${id} at ${path}`).toContain(id);
        expect(path, id).toMatch(expected[id]!.at);
        expect(reason.length, `${path} ${id}`).toBeGreaterThan(40);
      }
      for (const [id, { count }] of Object.entries(expected)) {
        expect(
          acknowledged.filter((a) => a.id === id).map((a) => a.path),
          id,
        ).toHaveLength(count);
      }
      expect(acknowledged.some((a) => a.path === synthesized().app.node.path)).toBe(false);
      expect(acknowledged.some((a) => a.path === synthesized().stack.node.path)).toBe(false);
    });
  });

  function logGroupOf(name: string): string {
    return (fn(name).resource.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
  }
});

describe('the stack with other settings', () => {
  it('makes one schedule per shard group at the configured rate, and e-mails alarms when asked', () => {
    const config = parseStageConfig({
      ...STAGES.dev,
      recheckParallelRuns: 4,
      scheduleRateMinutes: 2,
      discovery: { enabled: true, statuses: ['ISSUED'], everyMinutes: 15 },
      alarmEmail: 'oncall@example.com',
      instantPayBaseUrl: 'https://api.instantpay.example',
    });
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const template = Template.fromStack(new PayoutLinkTrackerStack(app, 'Other', { config }));
    const all = Object.values(template.findResources('AWS::Scheduler::Schedule')) as Resource[];
    const schedules = all.filter((s) => String(s.Properties.Name).includes('-recheck-'));
    expect(schedules.map((s) => s.Properties.ScheduleExpression)).toEqual(Array(4).fill('rate(2 minutes)'));
    const discovery = all.filter((s) => s.Properties.Name === 'payout-link-tracker-dev-discovery');
    expect(discovery.map((s) => s.Properties.ScheduleExpression)).toEqual(['rate(15 minutes)']);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'payout-link-tracker-dev-discover-links',
      Environment: {
        Variables: Match.objectLike({ DISCOVERY_STATUSES: 'ISSUED', RECHECK_PARALLEL_RUNS: '4' }),
      },
    });
    expect(schedules.map((s) => JSON.parse((s.Properties.Target as { Input: string }).Input))).toEqual([
      { shardGroup: 0 },
      { shardGroup: 1 },
      { shardGroup: 2 },
      { shardGroup: 3 },
    ]);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'payout-link-tracker-dev-oldest-due-link',
      Threshold: 240,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'payout-link-tracker-dev-track-link',
      Environment: {
        Variables: Match.objectLike({
          INSTANTPAY_BASE_URL: 'https://api.instantpay.example',
          RECHECK_PARALLEL_RUNS: Match.absent(),
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'payout-link-tracker-dev-recheck-pending',
      Environment: { Variables: Match.objectLike({ RECHECK_PARALLEL_RUNS: '4' }) },
    });
  });
});
