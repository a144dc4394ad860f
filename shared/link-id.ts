/** The only link ids the tracker accepts; anything else never reaches InstantPay. */
export const LINK_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidLinkId(value: unknown): value is string {
  return typeof value === 'string' && LINK_ID_PATTERN.test(value);
}
