import { replayArchive } from '#infra/ops/replay.ts';
import { type Command, stringOption, writeJson } from '../command.ts';
import { UsageError } from '../errors.ts';
import { OPERATOR_NOTE, OPERATOR_OPTIONS, operatorStage, subscriberOf } from './operator.ts';

export const replay: Command = {
  name: 'replay',
  summary: 'replay the bus archive for a time window, to every subscriber or one',
  usage: 'replay --from ISO --to ISO [--subscriber NAME] [--stage S | --local] [--json]',
  description: `
Replays the stage bus's archive between two times onto the bus, with the original eventIds (receivers
dedupe on them). With --subscriber, only that subscriber's rule receives the window again; without
it, EVERY rule does: every webhook subscriber and every other target of the bus. Waits for the replay
to finish, showing its state. ${OPERATOR_NOTE}`,
  options: {
    from: { type: 'string', value: 'ISO', help: 'the start of the window (ISO 8601)' },
    to: { type: 'string', value: 'ISO', help: 'the end of the window (ISO 8601)' },
    subscriber: {
      type: 'string',
      value: 'NAME',
      help: "only this webhook subscriber's rule (default: every rule of the bus)",
    },
    ...OPERATOR_OPTIONS,
  },
  positionals: { min: 0, max: 0 },
  async run(context) {
    const { command, values, io, deps } = context;
    const fromText = stringOption(values, 'from');
    const toText = stringOption(values, 'to');
    if (!fromText || !toText) throw new UsageError('--from ISO and --to ISO are required.', command);
    const from = new Date(fromText);
    const to = new Date(toText);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
      throw new UsageError('--from and --to must be ISO 8601 times (e.g. 2026-11-25T10:00:00Z).', command);
    }
    if (!(from < to)) throw new UsageError('--from must be before --to.', command);
    const stage = operatorStage(context);
    const subscriber =
      stringOption(values, 'subscriber') === undefined ? undefined : subscriberOf(context, stage).name;
    const audience = subscriber
      ? `subscriber ${subscriber} alone (its rule)`
      : 'EVERY rule of the bus: every webhook subscriber and every other target';
    io.stderr.write(`replay ${stage}: the window goes to ${audience}.\n`);
    const eventBridge =
      deps.eventBridge?.() ?? new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient({});
    const started = Date.now();
    let last = '';
    const result = await replayArchive(eventBridge, {
      stage,
      from,
      to,
      ...(subscriber ? { subscriber } : {}),
      onProgress: (state) => {
        if (state === last) return;
        last = state;
        const line = `replay ${stage}: ${state.toLowerCase()} (${Math.round((Date.now() - started) / 1000)} s)`;
        io.stderr.write(io.stderr.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
      },
    }).finally(() => {
      if (io.stderr.isTTY && last) io.stderr.write('\n');
    });
    if (values.json)
      writeJson(io, {
        stage,
        from: from.toISOString(),
        to: to.toISOString(),
        subscriber: subscriber ?? null,
        ...result,
      });
    else io.stdout.write(`Replay ${result.replayName} ${result.state.toLowerCase()}: sent to ${audience}.\n`);
    return 0;
  },
};
