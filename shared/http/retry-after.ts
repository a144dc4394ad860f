/**
 * A `Retry-After` header in seconds from `nowMs`: delta-seconds or an HTTP-date (zero or negative
 * when in the past); `undefined` when absent or unreadable. Callers apply their own bounds.
 */
export function retryAfterSeconds(header: string | null | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.ceil((at - nowMs) / 1000);
}
