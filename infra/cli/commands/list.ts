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
  summary: 'list watched (or final, or idle) links',
  usage: 'list [--state watching|final|idle] [--limit N] [--cursor C | --all] [--stage S | --local] [--json]',
  description: `
Lists links (GET /links): "watching" (default) are being rechecked, "final" reached a final status,
"idle" are neither (unwatched before they were final). One page of --limit links (default 25) and,
when there are more, the cursor of the next page; --all follows the cursors to the end.`,
  options: {
    state: { type: 'string', value: 'STATE', help: 'watching (default), final or idle' },
    limit: { type: 'string', value: 'N', help: 'links per page, 1 to 100 (default 25; 100 with --all)' },
    cursor: { type: 'string', value: 'C', help: 'the page after this cursor (from a previous nextCursor)' },
    all: { type: 'boolean', help: 'every page, not just the first' },
    ...API_OPTIONS,
  },
  positionals: { min: 0, max: 0 },
  async run({ command, values, io, deps }) {
    const state = stringOption(values, 'state') ?? 'watching';
    if (!STATES.includes(state as ListState)) {
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
        state: state as ListState,
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
    io.stdout.write(renderTable(LINK_COLUMNS, links, `No ${state} links.`));
    if (nextCursor !== null) {
      io.stderr.write(`More links: --cursor ${forTerminal(nextCursor)} for the next page, or --all.\n`);
    }
    return 0;
  },
};
