/** The contract's bus name: one per stage. */
export function busName(stage: string): string {
  return `payout-link-tracker-${stage}`;
}
