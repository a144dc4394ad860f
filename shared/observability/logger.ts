import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';

/**
 * One Powertools logger per function, tuned by its environment (`process.env` in Lambda):
 * `POWERTOOLS_SERVICE_NAME`, and `POWERTOOLS_LOG_LEVEL` (or `LOG_LEVEL`) as Powertools reads them.
 */
export function createLogger(
  serviceName: string,
  env: Record<string, string | undefined> = process.env,
): Logger {
  const logLevel = env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL;
  return new Logger({
    serviceName: env.POWERTOOLS_SERVICE_NAME ?? serviceName,
    ...(logLevel ? { logLevel: logLevel as LogLevel } : {}),
  });
}
