import { redriveDeadLetters } from '#infra/ops/redrive.ts';
import { type Command, writeJson } from '../command.ts';
import { throttledProgress } from '../progress.ts';
import { OPERATOR_NOTE, OPERATOR_OPTIONS, operatorStage, subscriberOf } from './operator.ts';

export const redrive: Command = {
  name: 'redrive',
  summary: "move a subscriber's dead-lettered deliveries back to its queue",
  usage: 'redrive --subscriber NAME [--stage S | --local] [--json]',
  description: `
Moves every delivery in the subscriber's dead-letter queue back to its queue (an SQS message move
task; on an emulator, receive-send-delete), with a progress bar, so deliver-webhooks tries them again.
${OPERATOR_NOTE}`,
  options: {
    subscriber: { type: 'string', value: 'NAME', help: 'the subscriber, as named in the stage config' },
    ...OPERATOR_OPTIONS,
  },
  positionals: { min: 0, max: 0 },
  async run(context) {
    const stage = operatorStage(context);
    const subscriber = subscriberOf(context, stage);
    const { io, deps } = context;
    const sqs = deps.sqs?.() ?? new (await import('@aws-sdk/client-sqs')).SQSClient({});
    const bar = throttledProgress(`redrive ${subscriber.name}`, io);
    let result: Awaited<ReturnType<typeof redriveDeadLetters>>;
    try {
      result = await redriveDeadLetters(sqs, {
        stage,
        subscriber: subscriber.name,
        onProgress: (moved, total) => bar.update(moved, total),
      });
    } finally {
      bar.done();
    }
    if (context.values.json) writeJson(io, { stage, subscriber: subscriber.name, ...result });
    else
      io.stdout.write(
        `Moved ${result.moved} deliveries back to ${subscriber.name}'s queue (${result.method}).\n`,
      );
    return 0;
  },
};
