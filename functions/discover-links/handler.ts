import { createDiscoverHandler } from './wiring.ts';

// Cold start: built once per container from the function's environment.
export const handler = createDiscoverHandler(process.env);
