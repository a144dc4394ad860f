import type { LinkView } from '#shared/link/link-view.ts';
import { ApiError } from '../api-client.ts';
import { API_OPTIONS, type Command, stringOption, targetOptions, writeJson } from '../command.ts';
import { describeError, stopsTheBatch } from '../errors.ts';
import { mapLimit } from '../progress.ts';
import { LINK_COLUMNS } from '../render.ts';
import { type Column, renderTable } from '../table.ts';
import { apiClientFor } from '../target.ts';
import { forTerminal } from '../terminal-text.ts';

type Registered = { linkId: string; created: boolean; link: LinkView };
type Failed = { linkId: string; error: ApiError };
type WatchResult = Registered | Failed;

export const watch: Command = {
  name: 'watch',
  summary: 'register links for watching',
  usage: 'watch <linkId>... [--expires-at ISO] [--reference TEXT] [--stage S | --local] [--json]',
  description: `
Registers each link for watching (POST /links; idempotent) and checks it once: "created" for a link
new to the tracker, "known" for one it already had. Exits 1 when any link failed (each failure is
shown with the API's reason); the others are registered all the same.`,
  options: {
    'expires-at': {
      type: 'string',
      value: 'ISO',
      help: 'stop watching after one check past this time (ISO 8601 with a zone), for every link given',
    },
    reference: { type: 'string', value: 'TEXT', help: 'your reference for the links (1 to 128 characters)' },
    ...API_OPTIONS,
  },
  positionals: { min: 1, max: 1000, name: '<linkId>' },
  async run({ command, positionals, values, io, deps }) {
    const expiresAt = stringOption(values, 'expires-at');
    const reference = stringOption(values, 'reference');
    const api = await apiClientFor(targetOptions(values), { env: io.env, ...deps }, command);
    const results = await mapLimit(positionals, 8, async (linkId): Promise<WatchResult> => {
      try {
        const { created, link } = await api.registerLink({
          linkId,
          ...(expiresAt === undefined ? {} : { expiresAt }),
          ...(reference === undefined ? {} : { reference }),
        });
        return { linkId, created, link };
      } catch (error) {
        if (stopsTheBatch(error) || !(error instanceof ApiError)) throw error;
        return { linkId, error };
      }
    });
    const failures = results.filter((result): result is Failed => 'error' in result);
    const done = results.filter((result): result is Registered => 'link' in result);
    if (values.json) {
      writeJson(
        io,
        results.map((result) =>
          'error' in result
            ? {
                linkId: result.linkId,
                error: {
                  status: result.error.status,
                  ...result.error.problem,
                  message: result.error.message,
                },
              }
            : result,
        ),
      );
    } else if (done.length > 0) {
      const columns: Array<Column<Registered>> = [
        { header: 'result', value: (row) => (row.created ? 'created' : 'known') },
        ...LINK_COLUMNS.map((column) => ({ ...column, value: (row: Registered) => column.value(row.link) })),
      ];
      io.stdout.write(renderTable(columns, done));
    }
    for (const failure of failures) {
      io.stderr.write(`watch ${forTerminal(failure.linkId)}: ${describeError(failure.error).message}\n`);
    }
    return failures.length > 0 ? 1 : 0;
  },
};
