import type { Log } from '#shared/observability/log.ts';

export interface CapturedLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  attributes: unknown[];
}

/** A logger that keeps every line, so tests can check what was (and was not) logged. */
export function captureLog() {
  const lines: CapturedLine[] = [];
  const at =
    (level: CapturedLine['level']) =>
    (message: unknown, ...attributes: unknown[]) => {
      lines.push({ level, message: String(message), attributes });
    };
  const logger = { info: at('info'), warn: at('warn'), error: at('error') } as unknown as Log;
  return {
    logger,
    lines,
    /** Every line as JSON text, for "never contains" checks. */
    text: () => lines.map((line) => JSON.stringify(line)).join('\n'),
  };
}
