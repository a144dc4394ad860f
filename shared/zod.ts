/**
 * zod for the code the functions bundle: `zod/mini` (functions instead of methods, so esbuild keeps
 * only what is used: about 25 KB of a bundle instead of classic zod's 97), with its English messages.
 * zod/mini loads no locale, and without one every issue reads "Invalid input"; the 400 problems and
 * the configuration errors quote these messages. Runtime modules import zod from here, never from
 * `zod` or `zod/mini` directly, so the locale is set before any schema parses. The published
 * contracts (`*.schema.ts`, `infra/`) keep classic zod: they never reach a bundle.
 */

import { en } from 'zod/locales';
import { config, ZodMiniISODateTime, ZodMiniNumber } from 'zod/mini';
import { _coercedNumber, _isoDateTime, type $ZodISODateTimeParams, type $ZodNumberParams } from 'zod/v4/core';

config(en());

export * from 'zod/mini';

/*
 * `z.coerce` and `z.iso` are namespace objects (`export * as coerce`): a bundle that reaches one of
 * their members keeps them whole, every schema class behind them included (coerced bigint and date,
 * ISO date, time and duration: about 3 KB of each function's bundle, and their classes built at
 * every cold start). These local exports take the place of the namespaces (a module's own exports
 * win over `export *`) with only the members the runtime uses, built the way zod/mini builds them
 * (`zod/v4/mini/coerce.js`, `iso.js`). A use of another member does not compile: add it here.
 */

/** `z.coerce`, with only `number` (environment variables: strings, read as numbers). */
export const coerce = {
  number: <T = unknown>(params?: string | $ZodNumberParams): ZodMiniNumber<T> =>
    _coercedNumber(ZodMiniNumber, params) as ZodMiniNumber<T>,
};

/** `z.iso`, with only `datetime` (`expiresAt`, a secret's `previousValidUntil`). */
export const iso = {
  datetime: (params?: string | $ZodISODateTimeParams): ZodMiniISODateTime =>
    _isoDateTime(ZodMiniISODateTime, params),
};
