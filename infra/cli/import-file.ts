import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { describeProblems, type RegisterLinkBody, RegisterLinkBodySchema } from '#shared/http/requests.ts';
import { forTerminal } from './terminal-text.ts';

/** The file cannot be read as a whole (not found, not CSV/JSON, no `linkId` column): nothing is imported. */
export class ImportFileError extends Error {
  override readonly name = 'ImportFileError';
}

export interface CsvRecord {
  /** The line the record starts on (1-based). */
  line: number;
  fields: string[];
}

/**
 * RFC 4180 CSV: fields separated by commas, records by CRLF, LF or CR; a field in double quotes may
 * hold commas, line breaks and `""` for a quote. Blank lines are skipped; a UTF-8 BOM is ignored.
 * A quote that is never closed, or text after a closing quote, is an error naming the line.
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let index = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = '';
  let recordLine = 1;
  let sawQuote = false; // a quoted field makes even an empty-looking record a record
  const endField = () => {
    fields.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    if (fields.length > 1 || fields[0]!.trim() !== '' || sawQuote) records.push({ line: recordLine, fields });
    fields = [];
    sawQuote = false;
  };
  while (index < text.length) {
    const char = text[index]!;
    if (char === '"' && field === '') {
      // A quoted field: up to the closing quote, `""` being one quote.
      const opened = line;
      sawQuote = true;
      index++;
      for (;;) {
        if (index >= text.length)
          throw new ImportFileError(`line ${opened}: a quoted field is never closed.`);
        const inner = text[index]!;
        if (inner === '"') {
          if (text[index + 1] === '"') {
            field += '"';
            index += 2;
            continue;
          }
          index++;
          break;
        }
        if (inner === '\n' || (inner === '\r' && text[index + 1] !== '\n')) line++;
        field += inner;
        index++;
      }
      const next = text[index];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new ImportFileError(`line ${line}: unexpected ${JSON.stringify(next)} after a closing quote.`);
      }
      continue;
    }
    if (char === ',') {
      endField();
      index++;
      continue;
    }
    if (char === '\r' || char === '\n') {
      endRecord();
      index += char === '\r' && text[index + 1] === '\n' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    field += char;
    index++;
  }
  if (field !== '' || fields.length > 0 || sawQuote) endRecord();
  return records;
}

/** Formats rows as CSV, quoting what needs it, with CRLF line ends (RFC 4180). */
export function toCsv(rows: ReadonlyArray<ReadonlyArray<string>>): string {
  return rows
    .map((row) =>
      row
        .map((value) => (/[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value))
        .join(','),
    )
    .map((line) => `${line}\r\n`)
    .join('');
}

/** One row of an import file as read, before validation. */
export interface ImportRow {
  /** CSV: the line the record starts on (the header is line 1). JSON: the item's 1-based position. */
  row: number;
  linkId: unknown;
  expiresAt?: unknown;
  reference?: unknown;
  metadata?: unknown;
  /** A problem found while reading (a CSV row with more fields than the header). */
  problem?: string;
}

export type RowCheck = { ok: true; body: RegisterLinkBody } | { ok: false; error: string };

const COLUMNS = ['linkId', 'expiresAt', 'reference'] as const;
const normalize = (name: string) =>
  name
    .trim()
    .toLowerCase()
    .replace(/[\s_-]/g, '');

/** Rows of a CSV file with a header naming `linkId` and optionally `expiresAt`, `reference` (any order; other columns ignored). */
export function rowsFromCsv(text: string): ImportRow[] {
  const [header, ...records] = parseCsv(text);
  if (!header) return [];
  const positions = new Map<string, number>();
  header.fields.forEach((name, position) => {
    const column = COLUMNS.find((known) => normalize(known) === normalize(name));
    if (!column) return;
    if (positions.has(column)) throw new ImportFileError(`The header names the column ${column} twice.`);
    positions.set(column, position);
  });
  if (!positions.has('linkId')) {
    throw new ImportFileError(
      `The first line must be a header with a linkId column (and optionally expiresAt, reference); it is: ${header.fields.join(',').slice(0, 120)}`,
    );
  }
  return records.map(({ line, fields }) => {
    const value = (column: (typeof COLUMNS)[number]) => {
      const position = positions.get(column);
      return position === undefined ? undefined : (fields[position] ?? '').trim();
    };
    return {
      row: line,
      linkId: value('linkId'),
      expiresAt: value('expiresAt'),
      reference: value('reference'),
      ...(fields.length > header.fields.length
        ? { problem: `the row has ${fields.length} fields, the header ${header.fields.length}` }
        : {}),
    };
  });
}

/** Rows of a JSON file: an array of `{linkId, expiresAt?, reference?, metadata?}`, or `{"links": [...]}`. */
export function rowsFromJson(text: string): ImportRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ImportFileError(`The file is not valid JSON: ${(error as Error).message}`);
  }
  const items = Array.isArray(parsed) ? parsed : (parsed as { links?: unknown } | null)?.links;
  if (!Array.isArray(items)) {
    throw new ImportFileError(
      'A JSON import file must be an array of links, or an object with a "links" array.',
    );
  }
  return items.map((item: unknown, index) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return { row: index + 1, linkId: undefined, problem: 'the item is not an object' };
    }
    const { linkId, expiresAt, reference, metadata } = item as Record<string, unknown>;
    return { row: index + 1, linkId, expiresAt, reference, metadata };
  });
}

/** Reads an import file: `.json` as JSON, `.csv` as CSV, anything else by its first character. */
export async function readImportFile(path: string): Promise<{ format: 'csv' | 'json'; rows: ImportRow[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new ImportFileError(
      code === 'ENOENT' ? `No file ${path}.` : `Cannot read ${path}: ${(error as Error).message}`,
    );
  }
  const extension = extname(path).toLowerCase();
  const format =
    extension === '.json' || (extension !== '.csv' && /^\uFEFF?\s*[[{]/.test(text)) ? 'json' : 'csv';
  return { format, rows: format === 'json' ? rowsFromJson(text) : rowsFromCsv(text) };
}

/**
 * Checks a row against the API's own request schema (`RegisterLinkBodySchema`), so what passes here
 * is what `POST /links` accepts: the link id pattern, an ISO 8601 `expiresAt` with a zone, a reference
 * of 1 to 128 characters. Empty optional cells mean "not given".
 */
export function validateRow(row: ImportRow): RowCheck {
  if (row.problem) return { ok: false, error: row.problem };
  if (row.linkId === undefined || row.linkId === '') return { ok: false, error: 'linkId: required' };
  const candidate: Record<string, unknown> = { linkId: row.linkId };
  if (row.expiresAt !== undefined && row.expiresAt !== '' && row.expiresAt !== null)
    candidate.expiresAt = row.expiresAt;
  if (row.reference !== undefined && row.reference !== '' && row.reference !== null)
    candidate.reference = row.reference;
  if (row.metadata !== undefined && row.metadata !== null) candidate.metadata = row.metadata;
  const result = RegisterLinkBodySchema.safeParse(candidate);
  if (result.success) return { ok: true, body: result.data };
  const problems = describeProblems(result.error).map((problem) =>
    problem.startsWith('expiresAt:')
      ? 'expiresAt: must be an ISO 8601 date-time with Z or an offset (e.g. 2026-12-31T18:30:00Z)'
      : problem,
  );
  return { ok: false, error: problems.join('; ') };
}

/**
 * The CSV of failed rows: the input columns as given (so it can be fixed and imported again), the row
 * and why, the reason's control characters escaped (it quotes the API, and is read in a terminal).
 */
export function failedRowsCsv(failures: ReadonlyArray<{ row: ImportRow; error: string }>): string {
  const cell = (value: unknown) =>
    value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return toCsv([
    ['row', 'linkId', 'expiresAt', 'reference', 'error'],
    ...failures.map(({ row, error }) => [
      String(row.row),
      cell(row.linkId),
      cell(row.expiresAt),
      cell(row.reference),
      forTerminal(error),
    ]),
  ]);
}
