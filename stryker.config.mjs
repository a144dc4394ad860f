/**
 * Mutation testing of the pure core against the unit tier (`npm run mutation`, see
 * tools/mutation/run.mjs): which of these files' mutants the unit tests notice.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  mutate: [
    'shared/link/**/*.ts',
    'shared/masking.ts',
    'shared/webhooks/subscriber.ts',
    'shared/webhooks/subscriber-address.ts',
    'shared/webhooks/delivery.ts',
  ],
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  // Stryker's tsconfig step calls TypeScript's JavaScript API, which TypeScript 7 does not have: a path
  // that does not exist skips it (nothing is compiled; vitest runs the TypeScript as it is).
  tsconfigFile: 'tsconfig.stryker-skips-this.json',
  coverageAnalysis: 'perTest',
  // A shared two-core machine: raise with `npm run mutation -- --concurrency N`.
  concurrency: 1,
  timeoutMS: 10_000,
  ignorePatterns: ['cdk.out', 'coverage', 'test/integration', 'test/infra', 'test/e2e', 'test/bench'],
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: false, reportScoreTable: true },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
