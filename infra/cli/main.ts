import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type CliDeps, type Command, commandHelp, type Io, type Values } from './command.ts';
import { deliveries } from './commands/deliveries.ts';
import { enable } from './commands/enable.ts';
import { events } from './commands/events.ts';
import { importLinks } from './commands/import.ts';
import { list } from './commands/list.ts';
import { redrive } from './commands/redrive.ts';
import { replay } from './commands/replay.ts';
import { resend } from './commands/resend.ts';
import { rotateWebhookSecretCommand, webhookSecretAlias } from './commands/rotate-webhook-secret.ts';
import { subscribers } from './commands/subscribers.ts';
import { track } from './commands/track.ts';
import { unwatch } from './commands/unwatch.ts';
import { watch } from './commands/watch.ts';
import { describeError, UsageError } from './errors.ts';
import { forTerminal } from './terminal-text.ts';

export const COMMANDS: readonly Command[] = [
  track,
  watch,
  unwatch,
  events,
  list,
  importLinks,
  deliveries,
  subscribers,
  resend,
  enable,
  redrive,
  replay,
  rotateWebhookSecretCommand,
  webhookSecretAlias,
];

const API_COMMANDS = new Set([
  'track',
  'watch',
  'unwatch',
  'events',
  'list',
  'import',
  'deliveries',
  'subscribers',
  'resend',
  'enable',
]);

function globalHelp(): string {
  const visible = COMMANDS.filter((command) => !command.hidden);
  const width = Math.max(...visible.map((command) => synopsis(command).length));
  const line = (command: Command) => `  ${synopsis(command).padEnd(width)}  ${command.summary}`;
  return `payout-link-tracker: watch InstantPay payout links and operate the tracker.

Usage: payout-link-tracker <command> [options]

Links and webhook deliveries, through the tracker's HTTP API (SigV4-signed with the standard AWS credential chain; unsigned with --local):
${visible
  .filter((command) => API_COMMANDS.has(command.name))
  .map(line)
  .join('\n')}

Operator commands, on the stage's AWS resources (credentials and region from the standard chain):
${visible
  .filter((command) => !API_COMMANDS.has(command.name))
  .map(line)
  .join('\n')}

Common options:
  --stage S      dev (default), staging, prod, or local
  --local        the local cloud of \`npm start\` (API at http://127.0.0.1:$PORT, 3000 by default; no signing)
  --api-url URL  the API base URL (else $PAYOUT_LINK_TRACKER_API_URL, else the ApiUrl output of stack PayoutLinkTracker-<stage>)
  --json         machine-readable JSON on stdout; progress and errors stay on stderr
  -h, --help     help; \`payout-link-tracker <command> --help\` for one command

A link id that starts with '-' goes last, after '--': payout-link-tracker track --local -- -abc

Exit status: 0 done, 1 failed, 2 a usage error.
`;
}

function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/** Runs one command line; resolves to the exit status. Never throws, never exits the process. */
export async function runCli(
  argv: readonly string[],
  given: Io = processIo(),
  deps: CliDeps = {},
): Promise<number> {
  // Values are escaped where they are rendered (so columns stay aligned); stdout carries no control
  // sequence of ours, so anything that slipped through is escaped on the way out. (stderr keeps the
  // progress bar's carriage returns.)
  const io: Io = { ...given, stdout: { write: (chunk: string) => given.stdout.write(forTerminal(chunk)) } };
  const [name, ...rest] = argv;
  try {
    if (name === undefined) {
      io.stderr.write(globalHelp());
      return 2;
    }
    if (name === '--help' || name === '-h') {
      io.stdout.write(globalHelp());
      return 0;
    }
    if (name === 'help') {
      const topic = rest[0] === undefined ? undefined : findCommand(rest[0]);
      io.stdout.write(topic ? commandHelp(topic) : globalHelp());
      return 0;
    }
    const command = findCommand(name);
    const config = {
      args: [...rest],
      options: Object.fromEntries(
        Object.entries(command.options).map(([option, spec]) => [
          option,
          { type: spec.type, ...(spec.short ? { short: spec.short } : {}) },
        ]),
      ),
      allowPositionals: true,
      strict: true,
    } satisfies ParseArgsConfig;
    let parsed: ReturnType<typeof parseArgs<typeof config>>;
    try {
      parsed = parseArgs(config);
    } catch (error) {
      // node:util's messages go on about positionals starting with '-': the first sentence is enough.
      throw new UsageError((error as Error).message.split(/\.\s/)[0]!.replace(/\.$/, ''), command.name);
    }
    const { values, positionals } = parsed;
    if (values.help === true) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    const { min, max } = command.positionals;
    if (positionals.length < min || positionals.length > max) {
      throw new UsageError(
        max === 0
          ? `${command.name} takes no arguments (got ${positionals.join(' ')}).`
          : positionals.length < min
            ? `${command.name} needs ${command.positionals.name ?? 'an argument'}.`
            : `${command.name} takes at most ${max} ${command.positionals.name ?? 'argument'}${max === 1 ? '' : 's'}.`,
        command.name,
      );
    }
    return await command.run({ command: command.name, positionals, values: values as Values, io, deps });
  } catch (error) {
    const { message, exitCode } = describeError(error);
    io.stderr.write(`payout-link-tracker: ${message}\n`);
    return exitCode;
  }
}

/** `track <linkId>`, `replay --from ISO --to ISO`: the usage line without its optional parts. */
function synopsis(command: Command): string {
  return command.usage.split(' [')[0]!;
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command) return command;
  const names = COMMANDS.filter((candidate) => !candidate.hidden).map((candidate) => candidate.name);
  throw new UsageError(`Unknown command ${JSON.stringify(name)}: use one of ${names.join(', ')}.`);
}
