/**
 * What `npm start` runs with when a variable is not set (rates and masking: the `local` stage's).
 * The CLI's `--local` reads `PORT` here too, so this module imports nothing heavy.
 */
export const LOCAL_DEFAULTS = {
  PORT: 3000,
  SANDBOX_PORT: 8000,
  SANDBOX_CLOCK: 'system',
  RECHECK_INTERVAL_SECONDS: 1,
  DISCOVERY_INTERVAL_SECONDS: 5,
  SCHEDULE_SCALE: '1/60',
  LOG_LEVEL: 'WARN',
} as const;
