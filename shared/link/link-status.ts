const FINAL: ReadonlySet<string> = new Set(['CLAIMED', 'CANCELLED', 'EXPIRED']);

/** `CLAIMED`, `CANCELLED` and `EXPIRED` never change again; nothing else is final (unknown values included). */
export function isFinal(status: string): boolean {
  return FINAL.has(status);
}
