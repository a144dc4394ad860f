import { StageConfigError } from '#infra/config/stage-config.ts';
import { ApiError, ApiUnreachableError } from './api-client.ts';
import { ImportFileError } from './import-file.ts';
import { forTerminal } from './terminal-text.ts';

/** A mistake in how the CLI was called (exit 2); the message says what to change. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The subcommand whose `--help` to point at, if any. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** A failure the CLI already phrased for the operator (exit 1). */
export class CliError extends Error {
  override readonly name = 'CliError';
}

const NO_CREDENTIALS =
  'No AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or sign in with `aws sso login`), or use --local for the local cloud.';

/**
 * One line for the operator and the exit code: 2 for usage errors, 1 for every failure. The line
 * quotes the API (a problem's title, API Gateway's message), so its control characters are escaped.
 */
export function describeError(error: unknown): { message: string; exitCode: 1 | 2 } {
  const { message, exitCode } = describe(error);
  return { message: forTerminal(oneLine(message)), exitCode };
}

function describe(error: unknown): { message: string; exitCode: 1 | 2 } {
  if (error instanceof UsageError) {
    const hint = error.command
      ? ` (see payout-link-tracker ${error.command} --help)`
      : ' (see payout-link-tracker --help)';
    return { message: `${error.message}${hint}`, exitCode: 2 };
  }
  if (error instanceof StageConfigError || error instanceof ImportFileError) {
    return { message: error.message, exitCode: 2 };
  }
  if (isParseArgsError(error)) return { message: `${error.message} (see --help)`, exitCode: 2 };
  if (isMissingCredentials(error)) return { message: NO_CREDENTIALS, exitCode: 1 };
  if (error instanceof Error && /^Region is missing/.test(error.message)) {
    return { message: 'No AWS region found: set AWS_REGION (or a region in your AWS profile).', exitCode: 1 };
  }
  if (error instanceof ApiError || error instanceof ApiUnreachableError || error instanceof CliError) {
    return { message: error.message, exitCode: 1 };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { message: `Failed: ${oneLine(message)}`, exitCode: 1 };
}

/** The credential chain found nothing (by name, so a second copy of the SDK still matches). */
function isMissingCredentials(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    error.name === 'CredentialsProviderError' ||
    /Could not load credentials from any providers/i.test(error.message)
  );
}

function isParseArgsError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Errors that would fail every other request of a batch the same way (no credentials, the API
 * unreachable or refusing the signature): a batch stops on them instead of failing row by row.
 */
export function stopsTheBatch(error: unknown): boolean {
  if (isMissingCredentials(error) || error instanceof ApiUnreachableError || error instanceof CliError)
    return true;
  return error instanceof ApiError && (error.status === 401 || error.status === 403) && !error.problem;
}
