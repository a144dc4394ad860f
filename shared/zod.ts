/**
 * zod for the code the functions bundle: `zod/mini` (functions instead of methods, so esbuild keeps
 * only what is used: about 25 KB of a bundle instead of classic zod's 97), with its English messages.
 * zod/mini loads no locale, and without one every issue reads "Invalid input"; the 400 problems and
 * the configuration errors quote these messages. Runtime modules import zod from here, never from
 * `zod` or `zod/mini` directly, so the locale is set before any schema parses. The published
 * contracts (`*.schema.ts`, `infra/`) keep classic zod: they never reach a bundle.
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
