/**
 * Text from the API (a reference, metadata, activity, a problem's title) is data, never terminal
 * commands: an ESC sequence could clear the screen, retitle the window or forge a link, and a bidi
 * override can show text in another order than it is (Trojan Source).
 */

/** C0 but tab and newline, DEL and C1 (`\p{Cc}`), bidi embeddings, overrides and isolates. */
const CONTROL = /(?![\t\n])\p{Cc}|[\u202a-\u202e\u2066-\u2069]/gu;
/** What `JSON.stringify` leaves raw that a terminal acts on (it escapes C0 itself). */
const RAW_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/** Human output: each control character shown as its escape (`\x1b`, `\u202e`), so it is seen, not obeyed. */
export function forTerminal(text: string): string {
  return text.replace(CONTROL, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
}

/** `--json` output: what JSON leaves raw escaped as `\uXXXX`, which parses back to the same text. */
export function forJsonTerminal(json: string): string {
  return json.replace(RAW_IN_JSON, (char) => `\\u${hex(char.charCodeAt(0), 4)}`);
}

function hex(code: number, digits: number): string {
  return code.toString(16).padStart(digits, '0');
}
