/** Plain-text tables for people; `--json` is for scripts. No colours, so output pipes cleanly. */

import { forTerminal } from './terminal-text.ts';

export interface Column<Row> {
  header: string;
  value: (row: Row) => unknown;
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right';
  /** Longer values are cut with an ellipsis. */
  maxWidth?: number;
}

/** A header, a rule, and one line per row, columns padded to their widest cell; `empty` when no rows. */
export function renderTable<Row>(
  columns: ReadonlyArray<Column<Row>>,
  rows: readonly Row[],
  empty = '(none)',
): string {
  if (rows.length === 0) return `${empty}\n`;
  const cells = rows.map((row) =>
    columns.map((column) => truncate(cell(column.value(row)), column.maxWidth)),
  );
  const widths = columns.map((column, index) =>
    Math.max(width(column.header), ...cells.map((line) => width(line[index]!))),
  );
  const format = (line: string[]) =>
    line
      .map((value, index) => {
        const pad = ' '.repeat(widths[index]! - width(value));
        return columns[index]!.align === 'right' ? pad + value : value + pad;
      })
      .join('  ')
      .trimEnd();
  return [
    format(columns.map((column) => column.header)),
    format(widths.map((size) => '-'.repeat(size))),
    ...cells.map(format),
  ]
    .map((line) => `${line}\n`)
    .join('');
}

/** `label  value` lines, labels padded; fields whose value is `undefined` are left out. */
export function renderFields(fields: ReadonlyArray<readonly [string, unknown]>): string {
  const shown = fields.filter(([, value]) => value !== undefined);
  const labelWidth = Math.max(0, ...shown.map(([label]) => width(label)));
  return shown.map(([label, value]) => `${label.padEnd(labelWidth)}  ${cell(value)}\n`).join('');
}

/** How a value shows in a cell: `-` for nothing, one line always, control characters escaped. */
export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'string') return forTerminal(value.replace(/[\r\n\t]+/g, ' '));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return forTerminal(JSON.stringify(value));
}

function truncate(value: string, maxWidth: number | undefined): string {
  if (maxWidth === undefined || width(value) <= maxWidth) return value;
  return `${[...value].slice(0, Math.max(1, maxWidth - 1)).join('')}…`;
}

/** Code points, so a rupee sign or an accent counts once. */
function width(value: string): number {
  return [...value].length;
}
