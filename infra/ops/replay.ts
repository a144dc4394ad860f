import {
  DescribeEventBusCommand,
  DescribeReplayCommand,
  DescribeRuleCommand,
  type EventBridgeClient,
  ListArchivesCommand,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { busName, webhookResourceNames } from '#shared/resource-names.ts';

/**
 * Replays the stage bus's archive for a time window onto the same bus, with the original `eventId`s
 * (receivers dedupe on them): to every rule, and so every subscriber and every other target, or, with
 * `subscriber`, to that subscriber's rule alone (EventBridge's `FilterArns`).
 */
export async function replayArchive(
  eventbridge: EventBridgeClient,
  options: {
    stage: string;
    from: Date;
    to: Date;
    /** Only this webhook subscriber's rule receives the window again. */
    subscriber?: string;
    onProgress?: (state: string) => void;
    pollMs?: number;
  },
): Promise<{ replayName: string; state: string; ruleArn?: string }> {
  if (!(options.from < options.to)) throw new Error('--from must be before --to.');
  const bus = await eventbridge.send(new DescribeEventBusCommand({ Name: busName(options.stage) }));
  if (!bus.Arn) throw new Error(`No bus ${busName(options.stage)}.`);
  const ruleArn =
    options.subscriber === undefined
      ? undefined
      : await subscriberRuleArn(eventbridge, options.stage, options.subscriber);
  const { Archives = [] } = await eventbridge.send(new ListArchivesCommand({ EventSourceArn: bus.Arn }));
  const archive = Archives[0];
  if (!archive?.ArchiveName) throw new Error(`The bus ${busName(options.stage)} has no archive.`);
  const replayName = `${options.stage}-${options.from
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 12)}-${Date.now().toString(36)}`;
  const account = bus.Arn.split(':')[4];
  const region = bus.Arn.split(':')[3];
  await eventbridge.send(
    new StartReplayCommand({
      ReplayName: replayName,
      EventSourceArn: `arn:aws:events:${region}:${account}:archive/${archive.ArchiveName}`,
      EventStartTime: options.from,
      EventEndTime: options.to,
      Destination: { Arn: bus.Arn, ...(ruleArn ? { FilterArns: [ruleArn] } : {}) },
    }),
  );
  for (;;) {
    const replay = await eventbridge.send(new DescribeReplayCommand({ ReplayName: replayName }));
    const state = replay.State ?? 'UNKNOWN';
    options.onProgress?.(state);
    if (state === 'COMPLETED' || state === 'FAILED' || state === 'CANCELLED') {
      if (state !== 'COMPLETED')
        throw new Error(`The replay ${replayName} ${state.toLowerCase()}: ${replay.StateReason ?? ''}`);
      return { replayName, state, ...(ruleArn ? { ruleArn } : {}) };
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2_000));
  }
}

/** The ARN of a subscriber's rule on the stage bus; a clear error when the stage has no such rule. */
async function subscriberRuleArn(eventbridge: EventBridgeClient, stage: string, subscriber: string) {
  const name = webhookResourceNames(stage, subscriber).rule;
  try {
    const rule = await eventbridge.send(
      new DescribeRuleCommand({ Name: name, EventBusName: busName(stage) }),
    );
    if (rule.Arn) return rule.Arn;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  throw new Error(`The stage ${stage} has no webhook subscriber ${subscriber} (no rule ${name} on its bus).`);
}
