import { CustomResource, Duration, RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { FUNCTION_NAMES } from '#shared/resource-names.ts';
import type { StageKey } from './stage-key.ts';
import { TrackerFunction } from './tracker-function.ts';

/** What the stack writes into a secret an operator (or the seed) has to fill: the functions reject it by name. */
const PLACEHOLDER_SECRET = JSON.stringify({ placeholder: true });

const ROTATION_REASON = {
  instantPay:
    'InstantPay issues these credentials: an operator sets them (README, "Set the InstantPay secret"); a Secrets Manager rotation function cannot obtain new ones. The client refetches the secret when InstantPay rejects it, so a manual rotation needs no redeploy.',
  webhook:
    'Rotated by the operator command `npm run webhook-secret -- --subscriber NAME --rotate`, which keeps the previous secret signing during an overlap the subscriber needs; an automatic rotation would cut subscribers off without notice.',
};

/**
 * The stage's secrets, by the names the config gives: the InstantPay credentials (a placeholder
 * until an operator sets them) and one signing secret per webhook subscriber, seeded with a fresh
 * `whsec_` value at deploy time by a small custom resource.
 */
export class TrackerSecrets extends Construct {
  readonly instantPay: Secret;
  readonly webhook = new Map<string, Secret>();
  /** The custom resource function that seeds the webhook secrets (absent without subscribers). */
  readonly seeder: TrackerFunction | undefined;

  constructor(scope: Construct, id: string, props: { config: StageConfig; stageKey: StageKey }) {
    super(scope, id);
    const { config, stageKey } = props;
    const encryptionKey = stageKey.key;
    const removalPolicy = config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.instantPay = new Secret(this, 'InstantPay', {
      secretName: config.instantPaySecretName,
      description: `InstantPay credentials of ${config.stage}: {clientId, clientSecret, endpointIp, authCode?, baseUrl?}`,
      // Not a secret: the marker the functions reject with "set the InstantPay secret".
      secretStringValue: SecretValue.unsafePlainText(PLACEHOLDER_SECRET),
      encryptionKey,
      removalPolicy,
    });
    Validations.of(this.instantPay).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: ROTATION_REASON.instantPay,
    });

    if (config.subscribers.length === 0) return;

    this.seeder = new TrackerFunction(this, 'WebhookSecretSeed', {
      name: FUNCTION_NAMES.webhookSecretSeed,
      entry: 'infra/constructs/webhook-secret-seed/handler.ts',
      config,
      stageKey,
      noDeadLetterQueueReason:
        'CloudFormation invokes it during a deploy and waits for its answer: a failure fails the deploy (and rolls it back) in front of the operator, and a record kept after the deploy would hold nothing to redrive.',
      description: 'Custom resource: gives a new webhook subscriber secret its first whsec_ value',
      memorySize: 256,
      timeout: Duration.seconds(30),
    });
    for (const subscriber of config.subscribers) {
      const secret = new Secret(this, `Webhook-${subscriber.name}`, {
        secretName: subscriber.secretName,
        description: `Webhook signing secret of subscriber ${subscriber.name} (${config.stage}): {current, previous?, previousValidUntil?}`,
        secretStringValue: SecretValue.unsafePlainText(PLACEHOLDER_SECRET),
        encryptionKey,
        removalPolicy,
      });
      Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: ROTATION_REASON.webhook });
      this.webhook.set(subscriber.name, secret);
      // Get to see a placeholder (Decrypt), Put a first value (GenerateDataKey for its new version).
      this.seeder
        .allow(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], [secret.secretArn])
        .allowSecretKey(['kms:Decrypt', 'kms:GenerateDataKey'], [secret]);
      const seed = new CustomResource(this, `Seed-${subscriber.name}`, {
        serviceToken: this.seeder.fn.functionArn,
        resourceType: 'Custom::WebhookSecretSeed',
        properties: { SecretId: secret.secretArn },
      });
      // The seed's own policy must exist before CloudFormation calls it.
      seed.node.addDependency(this.seeder.role);
    }
  }

  webhookSecret(name: string): Secret {
    const secret = this.webhook.get(name);
    if (!secret) throw new Error(`No webhook secret for subscriber "${name}".`);
    return secret;
  }
}
