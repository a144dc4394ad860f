import { Duration } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { apiName } from '#shared/resource-names.ts';
import type { StageKey } from './stage-key.ts';

/**
 * The contract's routes, plus two catch-alls so that a wrong method on a known path reaches the
 * function (which answers 405 with `Allow`) instead of API Gateway's bare 404. Every one of them
 * requires IAM (SigV4) authorization.
 */
const API_ROUTES: readonly { path: string; methods: HttpMethod[] }[] = [
  { path: '/links', methods: [HttpMethod.GET, HttpMethod.POST] },
  { path: '/links/{linkId}', methods: [HttpMethod.GET, HttpMethod.DELETE] },
  { path: '/links/{linkId}/events', methods: [HttpMethod.GET] },
  { path: '/links/{linkId}/deliveries', methods: [HttpMethod.GET] },
  { path: '/subscribers', methods: [HttpMethod.GET] },
  { path: '/subscribers/{name}/resend', methods: [HttpMethod.POST] },
  { path: '/subscribers/{name}/enable', methods: [HttpMethod.POST] },
  { path: '/links', methods: [HttpMethod.ANY] },
  { path: '/links/{proxy+}', methods: [HttpMethod.ANY] },
  { path: '/subscribers', methods: [HttpMethod.ANY] },
  { path: '/subscribers/{proxy+}', methods: [HttpMethod.ANY] },
];

/** One JSON object per request; the caller's IAM identity included, never a body or a header value. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  caller: '$context.identity.caller',
  userArn: '$context.identity.userArn',
};

export interface TrackerApiProps {
  readonly config: StageConfig;
  readonly handler: IFunction;
  /** Encrypts the access logs. */
  readonly stageKey: StageKey;
}

/** The HTTP API (API Gateway v2) in front of `track-link`: IAM on every route, stage throttling, JSON access logs. */
export class TrackerApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: TrackerApiProps) {
    super(scope, id);
    const { config } = props;

    this.api = new HttpApi(this, 'HttpApi', {
      apiName: apiName(config.stage),
      description: `Payout link tracker API (${config.stage}); every route needs SigV4 (IAM)`,
      defaultAuthorizer: new HttpIamAuthorizer(),
      // The stage is made below, with throttling and access logs.
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('TrackLink', props.handler);
    for (const route of API_ROUTES) {
      this.api.addRoutes({ path: route.path, methods: route.methods, integration });
    }

    this.accessLogs = props.stageKey.logGroup(this, 'AccessLogs', 'api-access');
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      detailedMetricsEnabled: true,
      throttle: { rateLimit: config.apiThrottle.rateLimit, burstLimit: config.apiThrottle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
  }

  /** The base URL of the API (the `$default` stage has no path of its own). */
  get url(): string {
    return this.stage.url;
  }

  /** An API Gateway metric of this API's stage (`Count`, `5xx`, `4xx`, `Latency`...). */
  metric(metricName: string, statistic = 'Sum'): Metric {
    return new Metric({
      namespace: 'AWS/ApiGateway',
      metricName,
      dimensionsMap: { ApiId: this.api.apiId, Stage: this.stage.stageName },
      statistic,
      period: Duration.minutes(5),
    });
  }
}
