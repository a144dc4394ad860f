import { DOCUMENTED_STATUSES } from '#shared/link/link-status.ts';
import type { ListState } from '#shared/store/link-store.ts';
import {
  API_OPTIONS,
  type Command,
  flag,
  intOption,
  stringOption,
  targetOptions,
  writeJson,
} from '../command.ts';
import { CliError, UsageError } from '../errors.ts';
import { LINK_COLUMNS } from '../render.ts';
import { renderTable } from '../table.ts';
import { apiClientFor } from '../target.ts';
import { forTerminal } from '../terminal-text.ts';

const STATES: readonly ListState[] = ['watching', 'final', 'idle'];
/** A bound on --all, so a misbehaving cursor cannot loop for ever. */
const MAX_PAGES = 10_000;

export const list: Command = {
  name: 'list',
  summary: 'list watched (or final, or idle) links, or links by status or reference',
  usage:
    'list [--state watching|final|idle] [--status S | --reference R] [--limit N] [--cursor C | --all] [--stage S | --local] [--json]',
  description: `
Lists links (GET /links): "watching" (default) are being rechecked, "final" reached a final status,
"idle" are neither (unwatched before they were final). --status ISSUED lists the links InstantPay last
showed with that status, --reference INV-42 the links registered (or discovered) with that exact
reference: each in any state, or in --state only when it is given. One page of --limit links (default
25) and, when there are more, the cursor of the next page; --all follows the cursors to the end.`,
  options: {
    state: {
      type: 'string',
      value: 'STATE',
      help: 'watching (default without --status/--reference), final or idle',
    },
    status: { type: 'string', value: 'S', help: `${DOCUMENTED_STATUSES.join(', ')}` },
    reference: { type: 'string', value: 'R', help: 'the exact reference (1 to 128 characters)' },
    limit: { type: 'string', value: 'N', help: 'links per page, 1 to 100 (default 25; 100 with --all)' },
    cursor: { type: 'string', value: 'C', help: 'the page after this cursor (from a previous nextCursor)' },
    all: { type: 'boolean', help: 'every page, not just the first' },
    ...API_OPTIONS,
  },
  positionals: { min: 0, max: 0 },
  async run({ command, values, io, deps }) {
    const status = stringOption(values, 'status')?.toUpperCase();
    const reference = stringOption(values, 'reference');
    if (status !== undefined && !(DOCUMENTED_STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(`--status must be one of ${DOCUMENTED_STATUSES.join(', ')}.`, command);
    }
    if (reference !== undefined && (reference.length === 0 || reference.length > 128)) {
      throw new UsageError('--reference must be 1 to 128 characters.', command);
    }
    if (status !== undefined && reference !== undefined) {
      throw new UsageError('--status and --reference cannot be combined: use one of them.', command);
    }
    const filtered = status !== undefined || reference !== undefined;
    const state = stringOption(values, 'state') ?? (filtered ? undefined : 'watching');
    if (state !== undefined && !STATES.includes(state as ListState)) {
      throw new UsageError(`--state must be one of ${STATES.join(', ')}.`, command);
    }
    const all = flag(values, 'all');
    const limit = intOption(values, 'limit', { min: 1, max: 100 }, command) ?? (all ? 100 : undefined);
    let cursor = stringOption(values, 'cursor');
    const api = await apiClientFor(targetOptions(values), { env: io.env, ...deps }, command);
    const links = [];
    let nextCursor: string | null = null;
    const seen = new Set<string>();
    for (let page = 0; ; page++) {
      const answer = await api.list({
        ...(state === undefined ? {} : { state: state as ListState }),
        ...(status === undefined ? {} : { status }),
        ...(reference === undefined ? {} : { reference }),
        ...(limit === undefined ? {} : { limit }),
        ...(cursor === undefined ? {} : { cursor }),
      });
      links.push(...answer.links);
      nextCursor = answer.nextCursor;
      if (!all || nextCursor === null) break;
      if (seen.has(nextCursor) || page >= MAX_PAGES) {
        throw new CliError(
          `The API returned the cursor ${nextCursor} twice; stopped after ${links.length} links.`,
        );
      }
      seen.add(nextCursor);
      cursor = nextCursor;
    }
    if (values.json) {
      writeJson(io, { links, nextCursor });
      return 0;
    }
    const what = [state, status, reference === undefined ? undefined : `"${forTerminal(reference)}"`]
      .filter(Boolean)
      .join(' ');
    io.stdout.write(renderTable(LINK_COLUMNS, links, `No ${what} links.`));
    if (nextCursor !== null) {
      io.stderr.write(`More links: --cursor ${forTerminal(nextCursor)} for the next page, or --all.\n`);
    }
    return 0;
  },
};
