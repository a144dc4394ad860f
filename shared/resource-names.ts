/**
 * Every name a stage's resources carry, defined once: the CDK constructs, the local cloud, the
 * functions and the operator commands build them here. Operators, subscribers and the contract
 * (the bus) depend on them: a name never changes for a deployed stage.
 */
/** The project's name: the start of every resource name, and the `project` tag of every resource. */
export const PROJECT = 'payout-link-tracker';

/**
 * The functions by their name inside a stage: the end of the Lambda function's name, the name of
 * its log group, and its Powertools service (the `service` dimension of its metrics).
 */
export const FUNCTION_NAMES = {
  trackLink: 'track-link',
  recheckPending: 'recheck-pending',
  deliverWebhooks: 'deliver-webhooks',
  discoverLinks: 'discover-links',
  webhookSecretSeed: 'webhook-secret-seed',
} as const;
export type FunctionName = (typeof FUNCTION_NAMES)[keyof typeof FUNCTION_NAMES];

/** `payout-link-tracker-<stage>`: what every AWS resource name of the stage starts with. */
export function stagePrefix(stage: string): string {
  return `${PROJECT}-${stage}`;
}

/** The stage's CloudFormation stack. */
export function stackName(stage: string): string {
  return `PayoutLinkTracker-${stage}`;
}

/** The contract's bus name, one per stage; its archive and schema registry have the same name. */
export function busName(stage: string): string {
  return stagePrefix(stage);
}

export function lambdaFunctionName(stage: string, name: FunctionName): string {
  return `${stagePrefix(stage)}-${name}`;
}

/** Every log group of a stage is named under `/payout-link-tracker/<stage>/`: the key policy names each one. */
export function logGroupName(stage: string, name: string): string {
  return `/${PROJECT}/${stage}/${name}`;
}

export function apiName(stage: string): string {
  return stagePrefix(stage);
}

/** The InstantPay credentials of the stage (Secrets Manager). */
export function instantPaySecretName(stage: string): string {
  return `${PROJECT}/${stage}/instantpay`;
}

/** A webhook subscriber's signing secret (Secrets Manager). */
export function webhookSecretName(stage: string, subscriber: string): string {
  return `${PROJECT}/${stage}/webhooks/${subscriber}`;
}

/**
 * The link table of the local stage (`npm start` creates it on the emulator). A deployed stage's
 * table is named by CloudFormation: its stack's `TableName` output.
 */
export const LOCAL_TABLE_NAME = `${stagePrefix('local')}-links`;

/** The webhook attempt log of the local stage; a deployed stage's is its stack's `DeliveriesTableName` output. */
export const LOCAL_DELIVERIES_TABLE_NAME = `${stagePrefix('local')}-deliveries`;

/** The recheck's queues: the schedule target's dead letters, and the function's failed runs. */
export function recheckQueueNames(stage: string) {
  return {
    scheduleDeadLetters: `${stagePrefix(stage)}-recheck-schedule-dlq`,
    failedRuns: `${stagePrefix(stage)}-recheck-failed-runs`,
  };
}

/** The schedule of one shard group of the recheck. */
export function recheckScheduleName(stage: string, shardGroup: number): string {
  return `${stagePrefix(stage)}-recheck-${shardGroup}`;
}

/** Discovery's schedule and queues (only in a stage that enables discovery). */
export function discoveryNames(stage: string) {
  return {
    schedule: `${stagePrefix(stage)}-discovery`,
    scheduleDeadLetters: `${stagePrefix(stage)}-discovery-schedule-dlq`,
    failedRuns: `${stagePrefix(stage)}-discovery-failed-runs`,
  };
}

/** The alarm topic, each alarm (`<prefix>-<what>`) and the dashboard of a stage. */
export function monitoringNames(stage: string) {
  const prefix = stagePrefix(stage);
  return {
    alarmTopic: `${prefix}-alarms`,
    alarm: (what: string) => `${prefix}-${what}`,
    dashboard: prefix,
  };
}

/** The prefix of every webhook rule and queue name of a stage; the subscriber's name follows it. */
export function webhookNamePrefix(stage: string): string {
  return `${stagePrefix(stage)}-webhook-`;
}

/** A webhook subscriber's rule and queues. */
export function webhookResourceNames(stage: string, subscriber: string) {
  const base = `${webhookNamePrefix(stage)}${subscriber}`;
  return {
    rule: base,
    queue: base,
    /** Deliveries that failed for 24 hours, or were kept while the subscriber was disabled. */
    deadLetterQueue: `${base}-dlq`,
    /** Events the rule could not put on the queue after its own retries. */
    ruleDeadLetterQueue: `${base}-rule-dlq`,
  };
}

/** The local cloud's own rule and queue that print every event of the bus (`npm start` only). */
export function eventConsoleName(stage: string): string {
  return `${stagePrefix(stage)}-console`;
}
