#!/usr/bin/env node
/**
 * `npm run mutation`: StrykerJS over the pure core against the unit tier (stryker.config.mjs), on the
 * Node.js 24 of tools/node24 (Stryker needs 22 or newer; the rest of the tooling runs on 20), then
 * the score of each measured part against its target. Extra arguments go to Stryker
 * (`npm run mutation -- --concurrency 2`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const node24 = join(root, 'tools/node24/node_modules/.bin/node');
const mutationProject = join(root, 'tools/mutation');
const stryker = join(mutationProject, 'node_modules/@stryker-mutator/core/bin/stryker.js');
const reportFile = join(root, 'reports/mutation/mutation.json');

/** The parts the issue measures, each with the files it is made of, and the score each must reach. */
const TARGET = 85;
const PARTS = [
  ['shared/link', (file) => file.startsWith('shared/link/')],
  ['shared/masking.ts', (file) => file === 'shared/masking.ts'],
  [
    'URL guard (subscriber.ts + subscriber-address.ts)',
    (file) => file === 'shared/webhooks/subscriber.ts' || file === 'shared/webhooks/subscriber-address.ts',
  ],
  ['shared/webhooks/delivery.ts', (file) => file === 'shared/webhooks/delivery.ts'],
];

if (!existsSync(node24)) {
  console.error(`npm run mutation: Node.js 24 is missing (${node24}): run \`npm ci\` first`);
  process.exit(2);
}
// StrykerJS needs Node.js 22 or newer: it is a project of its own (tools/mutation), installed on first
// use with this npm running on Node 24, so `npm ci` on Node 20 never installs it nor warns about it.
// Its vitest runner uses the project's own vitest (tools/mutation/.npmrc: no peer dependency copies).
if (!existsSync(stryker)) {
  const npmCli = process.env.npm_execpath;
  if (!npmCli) {
    console.error(
      'npm run mutation: run it through npm (`npm run mutation`), which installs StrykerJS on first use',
    );
    process.exit(2);
  }
  console.log('npm run mutation: installing StrykerJS into tools/mutation (first run only)');
  const install = spawnSync(node24, [npmCli, 'ci', '--no-audit', '--no-fund'], {
    cwd: mutationProject,
    stdio: 'inherit',
  });
  if (install.status !== 0) process.exit(install.status ?? 1);
}

const run = spawnSync(node24, [stryker, 'run', 'stryker.config.mjs', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
if (run.status !== 0) process.exit(run.status ?? 1);

const report = JSON.parse(readFileSync(reportFile, 'utf8'));
const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
let below = 0;
console.log(
  `\nMutation score per measured part (target ${TARGET} %; killed + timed out of all valid mutants):`,
);
for (const [name, inPart] of PARTS) {
  const mutants = Object.entries(report.files)
    .filter(([file]) => inPart(file.replaceAll('\\', '/')))
    .flatMap(([, file]) => file.mutants);
  const detected = mutants.filter((mutant) => DETECTED.has(mutant.status)).length;
  const valid = detected + mutants.filter((mutant) => UNDETECTED.has(mutant.status)).length;
  const score = valid === 0 ? 0 : (100 * detected) / valid;
  if (score < TARGET) below++;
  console.log(
    `  ${name.padEnd(52)} ${score.toFixed(2).padStart(6)} %  (${detected}/${valid})${score < TARGET ? '  BELOW TARGET' : ''}`,
  );
}
console.log(`Report: ${join('reports', 'mutation', 'index.html')}`);
process.exit(below > 0 ? 1 : 0);
