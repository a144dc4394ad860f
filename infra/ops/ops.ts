import { parseArgs } from 'node:util';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { stageConfig } from '#infra/config/stage-config.ts';
import { progressBar } from './progress.ts';
import { redriveDeadLetters } from './redrive.ts';
import { replayArchive } from './replay.ts';
import { rotateWebhookSecret } from './webhook-secret-rotation.ts';

const USAGE = `Operator commands (AWS credentials and region from the standard chain; AWS_ENDPOINT_URL for the local emulator):
  npm run redrive -- --subscriber NAME [--stage S]          move a subscriber's dead-lettered deliveries back to its queue
  npm run replay -- --from ISO --to ISO [--stage S]         replay the bus archive for that window to every rule
  npm run webhook-secret -- --subscriber NAME --rotate [--stage S]
                                                            new signing secret; the old one keeps signing for 24 h
--stage defaults to dev.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      stage: { type: 'string', default: 'dev' },
      subscriber: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      rotate: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (!command || values.help || command === 'help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const config = stageConfig(values.stage);
  const subscriberNamed = (name: string | undefined) => {
    if (!name) throw new UsageError('--subscriber NAME is required.');
    const subscriber = config.subscribers.find((s) => s.name === name);
    if (!subscriber) {
      const known = config.subscribers.map((s) => s.name).join(', ') || 'none';
      throw new UsageError(`Stage ${config.stage} has no subscriber ${name} (it has: ${known}).`);
    }
    return subscriber;
  };

  switch (command) {
    case 'redrive': {
      const subscriber = subscriberNamed(values.subscriber);
      const bar = progressBar(`redrive ${subscriber.name}`);
      const result = await redriveDeadLetters(new SQSClient({}), {
        stage: config.stage,
        subscriber: subscriber.name,
        onProgress: (moved, total) => bar.update(moved, total),
      });
      bar.done();
      console.log(`Moved ${result.moved} deliveries back to ${subscriber.name}'s queue (${result.method}).`);
      return 0;
    }
    case 'replay': {
      if (!values.from || !values.to) throw new UsageError('--from ISO and --to ISO are required.');
      const from = new Date(values.from);
      const to = new Date(values.to);
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
        throw new UsageError('--from and --to must be ISO 8601 times.');
      const result = await replayArchive(new EventBridgeClient({}), {
        stage: config.stage,
        from,
        to,
        onProgress: (state) => process.stderr.write(`replay: ${state}\n`),
      });
      console.log(`Replay ${result.replayName} ${result.state.toLowerCase()}.`);
      return 0;
    }
    case 'webhook-secret': {
      const subscriber = subscriberNamed(values.subscriber);
      if (!values.rotate) throw new UsageError('Say --rotate to start a rotation.');
      const result = await rotateWebhookSecret(new SecretsManagerClient({}), subscriber.secretName);
      // The new secret goes to stdout only, for the operator to hand to the subscriber.
      console.log(result.current);
      process.stderr.write(
        result.previousValidUntil
          ? `Rotated ${subscriber.secretName}; the previous secret keeps signing until ${result.previousValidUntil}.\n`
          : `Set the first secret of ${subscriber.secretName}.\n`,
      );
      return 0;
    }
    default:
      throw new UsageError(`Unknown command ${command}.`);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(error instanceof UsageError ? `${message}\n\n${USAGE}` : `Failed: ${message}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
