import { createRecheckHandler } from './wiring.ts';

// Cold start: built once per container from the function's environment.
export const handler = createRecheckHandler(process.env);
