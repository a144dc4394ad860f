import { stageConfig } from '#infra/config/stage-config.ts';
import { webhookSecretName } from '#shared/resource-names.ts';
import {
  type CommandContext,
  flag,
  HELP_OPTION,
  JSON_OPTION,
  type OptionSpec,
  STAGE_OPTIONS,
  stringOption,
} from '../command.ts';
import { UsageError } from '../errors.ts';
import { resolveStage } from '../target.ts';

/** The options every operator command has: --stage / --local, --json, --help. */
export const OPERATOR_OPTIONS: Record<string, OptionSpec> = {
  ...STAGE_OPTIONS,
  local: {
    type: 'boolean',
    help: 'the local stage, on the emulator AWS_ENDPOINT_URL points at',
  },
  ...JSON_OPTION,
  ...HELP_OPTION,
};

export const OPERATOR_NOTE =
  'AWS credentials and region come from the standard chain (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...); AWS_ENDPOINT_URL points the commands at an emulator.';

/** The stage an operator command works on; `--local` needs the emulator's address. */
export function operatorStage({ command, values, io }: CommandContext): string {
  const stage = resolveStage({ stage: stringOption(values, 'stage'), local: flag(values, 'local') }, command);
  if (stage === 'local' && !io.env.AWS_ENDPOINT_URL) {
    throw new UsageError(
      'The local stage lives on the emulator: set AWS_ENDPOINT_URL to its address (http://127.0.0.1:<port>).',
      command,
    );
  }
  return stage;
}

/**
 * A subscriber of the stage by name (its secret name included). The local cloud makes its
 * subscribers at start (`local-sink`, `webhook-1`, ...), so on the local stage any name is taken,
 * with the local cloud's secret naming.
 */
export function subscriberOf(context: CommandContext, stage: string): { name: string; secretName: string } {
  const name = stringOption(context.values, 'subscriber');
  if (!name) throw new UsageError('--subscriber NAME is required.', context.command);
  if (stage === 'local') return { name, secretName: webhookSecretName(stage, name) };
  const config = stageConfig(stage);
  const subscriber = config.subscribers.find((candidate) => candidate.name === name);
  if (!subscriber) {
    const known = config.subscribers.map((candidate) => candidate.name).join(', ') || 'none';
    throw new UsageError(`Stage ${stage} has no subscriber ${name} (it has: ${known}).`, context.command);
  }
  return { name: subscriber.name, secretName: subscriber.secretName };
}
