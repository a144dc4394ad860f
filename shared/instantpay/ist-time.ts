/**
 * InstantPay writes times as `YYYY-MM-DD HH:mm:ss` with no zone; Indian Standard Time (UTC+05:30,
 * no daylight saving) is the working assumption for every such field.
 */
const IST_OFFSET_MS = (5 * 60 + 30) * 60 * 1000;
const IST_PATTERN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Formats an instant as InstantPay does: IST wall-clock time, second precision. */
export function formatIst(epochMs: number): string {
  const ist = new Date(epochMs + IST_OFFSET_MS).toISOString();
  return `${ist.slice(0, 10)} ${ist.slice(11, 19)}`;
}

/** Reads an InstantPay time as IST; `undefined` for anything that is not `YYYY-MM-DD HH:mm:ss`. */
export function parseIst(text: string): number | undefined {
  const match = IST_PATTERN.exec(text);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as [number, ...number[]];
  const utc = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  // Reject impossible dates such as 2023-02-31 that Date.UTC silently rolls over.
  if (formatIst(utc - IST_OFFSET_MS) !== text) return undefined;
  return utc - IST_OFFSET_MS;
}
