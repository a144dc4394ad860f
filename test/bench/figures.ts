/**
 * The benchmark table: each benchmark returns rows, `run.ts` prints them. A row is either a figure of
 * the contract (a key of `npm run bench -- --json`, with a target) or an informational row that
 * belongs to one of them (`of`), printed beside it and never judged.
 */
export interface Target {
  /** `atLeast`: the value must be >= bound; `atMost`: <= bound. */
  kind: 'atLeast' | 'atMost';
  bound: number;
}

export interface Figure {
  /** The contract key (`sweepThroughputRatio`), or for an info row its name under `of`. */
  key: string;
  /** For an info row: the contract key it belongs to. */
  of?: string;
  /** `NaN` when the benchmark could not measure it (the note says why). */
  value: number;
  unit?: string;
  target?: Target;
  /** What the value is measured against: its physical or reference limit. */
  limit: string;
  note?: string;
}

export interface Benchmark {
  name: string;
  /**
   * The contract keys it reports, with their targets (none for a size reported for its own sake,
   * such as `bundleKb`): printed as not measured if it fails.
   */
  figures: ReadonlyArray<{ key: string; target?: Target; limit: string; unit?: string }>;
  run(): Promise<Figure[]>;
}

export const atLeast = (bound: number): Target => ({ kind: 'atLeast', bound });
export const atMost = (bound: number): Target => ({ kind: 'atMost', bound });

/** `true` pass, `false` miss, `null` an info row. A value that could not be measured misses. */
export function verdict(figure: Figure): boolean | null {
  if (!figure.target) return null;
  if (!Number.isFinite(figure.value)) return false;
  return figure.target.kind === 'atLeast'
    ? figure.value >= figure.target.bound
    : figure.value <= figure.target.bound;
}

export function describeTarget(target: Target | undefined): string {
  if (!target) return 'info';
  return `${target.kind === 'atLeast' ? '>=' : '<='} ${target.bound}`;
}

/** Three significant digits, at most three decimals: enough for a ratio, readable for a count. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const digits = Math.max(0, Math.min(3, 2 - Math.floor(Math.log10(Math.abs(value) || 1))));
  return Number(value.toFixed(digits));
}

/** The rows as one JSON object: one key per contract figure, its info rows nested under `info`. */
export function toJson(figures: readonly Figure[]): Record<string, unknown> {
  const json: Record<string, Record<string, unknown>> = {};
  for (const figure of figures.filter((f) => f.of === undefined)) {
    json[figure.key] = {
      value: Number.isFinite(figure.value) ? round(figure.value) : null,
      ...(figure.unit ? { unit: figure.unit } : {}),
      target: describeTarget(figure.target),
      limit: figure.limit,
      pass: verdict(figure),
      ...(figure.note ? { note: figure.note } : {}),
    };
  }
  for (const figure of figures.filter((f) => f.of !== undefined)) {
    const parent = json[figure.of as string];
    if (!parent) continue;
    parent.info ??= {};
    const info = parent.info as Record<string, unknown>;
    info[figure.key] = {
      value: Number.isFinite(figure.value) ? round(figure.value) : null,
      ...(figure.unit ? { unit: figure.unit } : {}),
      limit: figure.limit,
      ...(figure.note ? { note: figure.note } : {}),
    };
  }
  return json;
}

/** The rows as a plain-text table, info rows indented under the figure they belong to. */
export function toTable(figures: readonly Figure[]): string {
  const ordered: Figure[] = [];
  for (const figure of figures.filter((f) => f.of === undefined)) {
    ordered.push(figure, ...figures.filter((f) => f.of === figure.key));
  }
  // Info rows whose figure is missing still print, at the end.
  ordered.push(...figures.filter((f) => f.of !== undefined && !ordered.includes(f)));

  const header = ['figure', 'value', 'target', 'limit (measured against)', 'result', 'note'];
  const rows = ordered.map((figure) => {
    const pass = verdict(figure);
    const value = Number.isFinite(figure.value) ? String(round(figure.value)) : 'n/a';
    return [
      figure.of === undefined ? figure.key : `  ${figure.key}`,
      figure.unit ? `${value} ${figure.unit}` : value,
      describeTarget(figure.target),
      figure.limit,
      pass === null ? 'info' : pass ? 'pass' : 'MISS',
      figure.note ?? '',
    ];
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join(' | ')
      .trimEnd();
  return [line(header), widths.map((width) => '-'.repeat(width)).join('-|-'), ...rows.map(line)].join('\n');
}
