import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// Mutation testing runs the unit tier only: the unit project exactly as `npm test` runs it, and no other.
export default defineConfig({
  test: {
    projects: (base.test?.projects ?? []).filter(
      (project) => typeof project === 'object' && 'test' in project && project.test?.name === 'unit',
    ),
  },
});
