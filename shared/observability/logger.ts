import { Logger } from '@aws-lambda-powertools/logger';

/** One Powertools logger per function; `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_LOG_LEVEL` tune it. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName });
}
