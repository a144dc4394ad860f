import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { UsageError } from './errors.ts';
import type { TargetDeps } from './target.ts';
import { forJsonTerminal } from './terminal-text.ts';

/** Where a command writes: machine output (or the table) on stdout, progress and diagnostics on stderr. */
export interface Io {
  stdout: { write(chunk: string): unknown };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** What the commands build their clients from; the defaults use the standard AWS chains. */
export interface CliDeps extends TargetDeps {
  sqs?: () => SQSClient;
  eventBridge?: () => EventBridgeClient;
  secretsManager?: () => SecretsManagerClient;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in help as `--name VALUE`. */
  value?: string;
  help: string;
}

export type Values = Record<string, string | boolean | undefined>;

export interface CommandContext {
  command: string;
  positionals: string[];
  values: Values;
  io: Io;
  deps: CliDeps;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** `track <linkId> [--max-age SECONDS]`. */
  usage: string;
  /** Paragraphs after the usage line. */
  description: string;
  options: Record<string, OptionSpec>;
  positionals: { min: number; max: number; name?: string };
  /** Not in the command list (aliases kept for `npm run` scripts). */
  hidden?: boolean;
  run(context: CommandContext): Promise<number>;
}

export const HELP_OPTION: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export const JSON_OPTION: Record<string, OptionSpec> = {
  json: { type: 'boolean', help: 'machine-readable JSON on stdout (progress and errors stay on stderr)' },
};

export const STAGE_OPTIONS: Record<string, OptionSpec> = {
  stage: { type: 'string', value: 'S', help: 'the stage: dev (default), staging, prod, or local' },
  local: { type: 'boolean', help: 'the local cloud of `npm start` (the local stage)' },
};

/** The options of every command that goes through the HTTP API. */
export const API_OPTIONS: Record<string, OptionSpec> = {
  ...STAGE_OPTIONS,
  local: {
    type: 'boolean',
    help: 'the local cloud of `npm start` at http://127.0.0.1:$PORT (3000), requests unsigned',
  },
  'api-url': {
    type: 'string',
    value: 'URL',
    help: 'the API base URL (else $PAYOUT_LINK_TRACKER_API_URL, else the ApiUrl output of stack PayoutLinkTracker-<stage>)',
  },
  ...JSON_OPTION,
  ...HELP_OPTION,
};

export function commandHelp(command: Command): string {
  const width = Math.max(
    ...Object.entries(command.options).map(([name, spec]) => optionLabel(name, spec).length),
  );
  const options = Object.entries(command.options)
    .map(([name, spec]) => `  ${optionLabel(name, spec).padEnd(width)}  ${spec.help}`)
    .join('\n');
  return `Usage: payout-link-tracker ${command.usage}\n\n${command.description.trim()}\n\nOptions:\n${options}\n`;
}

function optionLabel(name: string, spec: OptionSpec): string {
  const short = spec.short ? `-${spec.short}, ` : '';
  return `${short}--${name}${spec.type === 'string' ? ` ${spec.value ?? 'VALUE'}` : ''}`;
}

export function stringOption(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function flag(values: Values, name: string): boolean {
  return values[name] === true;
}

/** A whole number option within bounds, else a usage error naming the option. */
export function intOption(
  values: Values,
  name: string,
  bounds: { min: number; max: number },
  command: string,
): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < bounds.min || value > bounds.max) {
    throw new UsageError(`--${name} must be a whole number from ${bounds.min} to ${bounds.max}.`, command);
  }
  return value;
}

export function writeJson(io: Io, value: unknown): void {
  io.stdout.write(`${forJsonTerminal(JSON.stringify(value, null, 2))}\n`);
}

/** The target options of an API command, as `apiClientFor` takes them. */
export function targetOptions(values: Values) {
  return {
    stage: stringOption(values, 'stage'),
    local: flag(values, 'local'),
    apiUrl: stringOption(values, 'api-url'),
  };
}
