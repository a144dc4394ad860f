/** Link statuses InstantPay documents. Any other value is kept as it is and watched. */
export const KNOWN_STATUSES = ['ISSUED', 'PROCESSING', 'CLAIMED', 'CANCELLED', 'EXPIRED'] as const;
export type KnownStatus = (typeof KNOWN_STATUSES)[number];

const FINAL: ReadonlySet<string> = new Set(['CLAIMED', 'CANCELLED', 'EXPIRED']);

/** `CLAIMED`, `CANCELLED` and `EXPIRED` never change again; nothing else is final (unknown values included). */
export function isFinal(status: string): boolean {
  return FINAL.has(status);
}

/** Every change between two statuses is recorded, `PROCESSING -> ISSUED` (a failed claim) included. */
export function isKnownStatus(status: string): status is KnownStatus {
  return (KNOWN_STATUSES as readonly string[]).includes(status);
}
