const FINAL: ReadonlySet<string> = new Set(['CLAIMED', 'CANCELLED', 'EXPIRED']);

/** `CLAIMED`, `CANCELLED` and `EXPIRED` never change again; nothing else is final (unknown values included). */
export function isFinal(status: string): boolean {
  return FINAL.has(status);
}

/** The five statuses InstantPay documents (its List page: "ISSUED, CLAIMED, CANCELLED, PROCESSING or EXPIRED"). */
export const DOCUMENTED_STATUSES = ['ISSUED', 'PROCESSING', 'CLAIMED', 'CANCELLED', 'EXPIRED'] as const;
export type DocumentedStatus = (typeof DOCUMENTED_STATUSES)[number];
