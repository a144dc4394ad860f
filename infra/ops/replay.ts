import {
  DescribeEventBusCommand,
  DescribeReplayCommand,
  type EventBridgeClient,
  ListArchivesCommand,
  StartReplayCommand,
} from '@aws-sdk/client-eventbridge';
import { busName } from '#shared/resource-names.ts';

/**
 * Replays the stage bus's archive for a time window onto the same bus: every rule (and so every
 * subscriber) sees those events again, with their original `eventId`s, so receivers dedupe them.
 */
export async function replayArchive(
  eventbridge: EventBridgeClient,
  options: { stage: string; from: Date; to: Date; onProgress?: (state: string) => void; pollMs?: number },
): Promise<{ replayName: string; state: string }> {
  if (!(options.from < options.to)) throw new Error('--from must be before --to.');
  const bus = await eventbridge.send(new DescribeEventBusCommand({ Name: busName(options.stage) }));
  if (!bus.Arn) throw new Error(`No bus ${busName(options.stage)}.`);
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
      Destination: { Arn: bus.Arn },
    }),
  );
  for (;;) {
    const replay = await eventbridge.send(new DescribeReplayCommand({ ReplayName: replayName }));
    const state = replay.State ?? 'UNKNOWN';
    options.onProgress?.(state);
    if (state === 'COMPLETED' || state === 'FAILED' || state === 'CANCELLED') {
      if (state !== 'COMPLETED')
        throw new Error(`The replay ${replayName} ${state.toLowerCase()}: ${replay.StateReason ?? ''}`);
      return { replayName, state };
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2_000));
  }
}
