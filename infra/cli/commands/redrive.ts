import { redriveDeadLetters } from '#infra/ops/redrive.ts';
import { LOCAL_TABLE_NAME } from '#shared/resource-names.ts';
import { type Command, stringOption, writeJson } from '../command.ts';
import { throttledProgress } from '../progress.ts';
import { stackOutput } from '../target.ts';
import { OPERATOR_NOTE, OPERATOR_OPTIONS, operatorStage, subscriberOf } from './operator.ts';

export const redrive: Command = {
  name: 'redrive',
  summary: "move a subscriber's dead-lettered deliveries back to its queue",
  usage: 'redrive --subscriber NAME [--stage S | --local] [--json]',
  description: `
Enables the subscriber again (a 410 Gone disabled it), then moves every delivery in its dead-letter
queues back to its queue (an SQS message move task; on an emulator, receive-send-delete), with a
progress bar, so deliver-webhooks tries them again. The subscriber's state lives in the stage's link
table: the stack's TableName output (local: ${LOCAL_TABLE_NAME}), or --table.
${OPERATOR_NOTE}`,
  options: {
    subscriber: { type: 'string', value: 'NAME', help: 'the subscriber, as named in the stage config' },
    table: {
      type: 'string',
      value: 'NAME',
      help: "the stage's link table (default: the stack's TableName output)",
    },
    ...OPERATOR_OPTIONS,
  },
  positionals: { min: 0, max: 0 },
  async run(context) {
    const stage = operatorStage(context);
    const subscriber = subscriberOf(context, stage);
    const { io, deps } = context;
    const sqs = deps.sqs?.() ?? new (await import('@aws-sdk/client-sqs')).SQSClient({});
    const table =
      stringOption(context.values, 'table') ??
      (stage === 'local'
        ? LOCAL_TABLE_NAME
        : await stackOutput(stage, 'TableName', deps, 'give --table NAME'));
    const { SubscriberStateStore } = await import('#shared/webhooks/subscriber-state.ts');
    const subscriberState = new SubscriberStateStore(table, { cacheMs: 0 });
    const bar = throttledProgress(`redrive ${subscriber.name}`, io);
    let result: Awaited<ReturnType<typeof redriveDeadLetters>>;
    try {
      result = await redriveDeadLetters(sqs, {
        stage,
        subscriber: subscriber.name,
        subscriberState,
        onProgress: (moved, total) => bar.update(moved, total),
      });
    } finally {
      bar.done();
    }
    if (context.values.json) writeJson(io, { stage, subscriber: subscriber.name, ...result });
    else {
      const { previousState: was } = result;
      if (was.disabled)
        io.stdout.write(
          `Enabled ${subscriber.name} again (disabled since ${was.disabledAt ?? 'an unknown time'}: ${was.reason ?? 'no reason recorded'}).\n`,
        );
      io.stdout.write(
        `Moved ${result.moved} deliveries back to ${subscriber.name}'s queue (${result.method}).\n`,
      );
    }
    return 0;
  },
};
