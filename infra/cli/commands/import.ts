import { writeFile } from 'node:fs/promises';
import type { RegisterLinkBody } from '#shared/http/requests.ts';
import { type ApiClient, ApiError } from '../api-client.ts';
import { API_OPTIONS, type Command, intOption, stringOption, targetOptions, writeJson } from '../command.ts';
import { stopsTheBatch } from '../errors.ts';
import {
  failedRowsCsv,
  ImportFileError,
  type ImportRow,
  readImportFile,
  validateRow,
} from '../import-file.ts';
import { mapLimit, throttledProgress } from '../progress.ts';
import { renderFields } from '../table.ts';
import { apiClientFor } from '../target.ts';
import { forTerminal } from '../terminal-text.ts';

export interface ImportSummary {
  file: string;
  rows: number;
  created: number;
  known: number;
  failed: number;
  /** Where the failed rows were written, when any failed. */
  failedFile: string | null;
  failures: Array<{ row: number; linkId: string | null; error: string }>;
}

const MAX_ATTEMPTS = 3;

export const importLinks: Command = {
  name: 'import',
  summary: 'register many links from a CSV or JSON file',
  usage: 'import <file.csv|file.json> [--failed-out PATH] [--concurrency N] [--stage S | --local] [--json]',
  description: `
Registers every link of a file for watching (POST /links, idempotent), a few at a time, with a
progress bar on stderr and a summary: created, already known, failed.

CSV: a header line naming linkId and optionally expiresAt and reference, in any order (other columns
are ignored), then one link per line; quoted fields may hold commas, quotes ("") and line breaks.
JSON: an array of {linkId, expiresAt?, reference?, metadata?}, or {"links": [...]}.

Every row is checked first, as the API would (linkId of 1 to 64 characters A-Z a-z 0-9 _ -, expiresAt
an ISO 8601 date-time with a zone, reference of 1 to 128 characters; a linkId seen twice fails the
second time). Rows that fail, here or at the API, are written with the reason to <file>.failed.csv
(or --failed-out), which can be fixed and imported again. Exits 1 when any row failed. A busy API
(429, 503) is retried twice, honouring Retry-After; no credentials, or an API refusing the signature,
stops the import (links registered so far stay registered: importing again is safe).`,
  options: {
    'failed-out': {
      type: 'string',
      value: 'PATH',
      help: 'where to write the failed rows (default <file>.failed.csv)',
    },
    concurrency: { type: 'string', value: 'N', help: 'requests at a time, 1 to 32 (default 8)' },
    ...API_OPTIONS,
  },
  positionals: { min: 1, max: 1, name: '<file>' },
  async run({ command, positionals, values, io, deps }) {
    const file = positionals[0]!;
    const concurrency = intOption(values, 'concurrency', { min: 1, max: 32 }, command) ?? 8;
    const failedOut = stringOption(values, 'failed-out') ?? `${file}.failed.csv`;
    const { rows } = await readImportFile(file).catch((error: unknown) => {
      if (error instanceof ImportFileError && !error.message.includes(file)) {
        throw new ImportFileError(`${file}: ${error.message}`);
      }
      throw error;
    });

    const failures: Array<{ row: ImportRow; error: string }> = [];
    const valid: Array<{ row: ImportRow; body: RegisterLinkBody }> = [];
    const firstRowOf = new Map<string, number>();
    for (const row of rows) {
      const check = validateRow(row);
      if (!check.ok) {
        failures.push({ row, error: check.error });
        continue;
      }
      const first = firstRowOf.get(check.body.linkId);
      if (first !== undefined) {
        failures.push({ row, error: `linkId: a duplicate of row ${first}` });
        continue;
      }
      firstRowOf.set(check.body.linkId, row.row);
      valid.push({ row, body: check.body });
    }

    let created = 0;
    let known = 0;
    if (valid.length > 0) {
      const api = await apiClientFor(targetOptions(values), { env: io.env, ...deps }, command);
      const bar = throttledProgress(`import ${file}`, io);
      let done = 0;
      bar.update(0, valid.length);
      try {
        await mapLimit(valid, concurrency, async ({ row, body }) => {
          try {
            if ((await registerWithRetry(api, body)).created) created++;
            else known++;
          } catch (error) {
            if (stopsTheBatch(error) || !(error instanceof ApiError)) throw error;
            failures.push({ row, error: error.message });
          }
          bar.update(++done, valid.length);
        });
      } finally {
        bar.done();
      }
    }

    failures.sort((a, b) => a.row.row - b.row.row);
    if (failures.length > 0) await writeFile(failedOut, failedRowsCsv(failures));
    const summary: ImportSummary = {
      file,
      rows: rows.length,
      created,
      known,
      failed: failures.length,
      failedFile: failures.length > 0 ? failedOut : null,
      failures: failures.map(({ row, error }) => ({
        row: row.row,
        linkId: typeof row.linkId === 'string' ? row.linkId : null,
        error,
      })),
    };
    if (values.json) writeJson(io, summary);
    else io.stdout.write(renderSummary(summary));
    return failures.length > 0 ? 1 : 0;
  },
};

function renderSummary(summary: ImportSummary): string {
  const shown = summary.failures
    .slice(0, 5)
    .map(
      ({ row, linkId, error }) =>
        `  row ${row} (${forTerminal(linkId ?? 'no linkId')}): ${forTerminal(error)}\n`,
    );
  const more =
    summary.failures.length > shown.length
      ? `  ... and ${summary.failures.length - shown.length} more\n`
      : '';
  return (
    `Imported ${summary.file}: ${summary.rows} rows\n` +
    renderFields([
      ['  created', summary.created],
      ['  already known', summary.known],
      [
        '  failed',
        summary.failedFile ? `${summary.failed} (rows and reasons in ${summary.failedFile})` : summary.failed,
      ],
    ]) +
    shown.join('') +
    more
  );
}

/** POST /links, again after a 429 or 503 (Retry-After, at most 10 s), up to three attempts in all. */
async function registerWithRetry(api: ApiClient, body: RegisterLinkBody) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.registerLink(body);
    } catch (error) {
      const busy = error instanceof ApiError && (error.status === 429 || error.status === 503);
      if (!busy || attempt >= MAX_ATTEMPTS) throw error;
      const waitSeconds = Math.min(10, error.retryAfterSeconds ?? attempt);
      await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
    }
  }
}
