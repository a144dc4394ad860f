import { rotateWebhookSecret } from '#infra/ops/webhook-secret-rotation.ts';
import { type Command, type CommandContext, writeJson } from '../command.ts';
import { UsageError } from '../errors.ts';
import { OPERATOR_NOTE, OPERATOR_OPTIONS, operatorStage, subscriberOf } from './operator.ts';

const DESCRIPTION = `
Gives the subscriber a new signing secret (whsec_...). The old one keeps signing too for 24 hours,
so the receiver can switch at its pace; a subscriber without a secret gets its first one. The new
secret is printed on stdout only (hand it to the subscriber); nothing else is. ${OPERATOR_NOTE}`;

async function rotateCommand(context: CommandContext): Promise<number> {
  const stage = operatorStage(context);
  const subscriber = subscriberOf(context, stage);
  const { io, deps } = context;
  const secrets =
    deps.secretsManager?.() ?? new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient({});
  const result = await rotateWebhookSecret(secrets, subscriber.secretName);
  if (context.values.json) {
    writeJson(io, {
      stage,
      subscriber: subscriber.name,
      secretName: subscriber.secretName,
      current: result.current,
      previousValidUntil: result.previousValidUntil ?? null,
    });
  } else {
    io.stdout.write(`${result.current}\n`);
  }
  io.stderr.write(
    result.previousValidUntil
      ? `Rotated ${subscriber.secretName}; the previous secret keeps signing until ${result.previousValidUntil}.\n`
      : `Set the first secret of ${subscriber.secretName}.\n`,
  );
  return 0;
}

export const rotateWebhookSecretCommand: Command = {
  name: 'rotate-webhook-secret',
  summary: "start a rotation of a subscriber's webhook signing secret",
  usage: 'rotate-webhook-secret --subscriber NAME [--stage S | --local] [--json]',
  description: DESCRIPTION,
  options: {
    subscriber: { type: 'string', value: 'NAME', help: 'the subscriber, as named in the stage config' },
    ...OPERATOR_OPTIONS,
  },
  positionals: { min: 0, max: 0 },
  run: rotateCommand,
};

/** What `npm run webhook-secret -- --subscriber NAME --rotate` runs (hidden from the command list). */
export const webhookSecretAlias: Command = {
  ...rotateWebhookSecretCommand,
  name: 'webhook-secret',
  summary: 'the same as rotate-webhook-secret, with --rotate (the npm run webhook-secret alias)',
  usage: 'webhook-secret --subscriber NAME --rotate [--stage S | --local] [--json]',
  hidden: true,
  options: {
    ...rotateWebhookSecretCommand.options,
    rotate: { type: 'boolean', help: 'start a rotation (required)' },
  },
  async run(context) {
    if (context.values.rotate !== true)
      throw new UsageError('Say --rotate to start a rotation.', context.command);
    return rotateCommand(context);
  },
};
