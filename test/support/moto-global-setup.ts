import type { TestProject } from 'vitest/node';
import { startMoto } from '#infra/local/moto.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoint: string;
  }
}

/**
 * Global setup of the integration tiers: one moto server per test run on a free loopback port.
 * Workers read its address through `inject('awsEndpoint')` (see `aws-env.ts`).
 */
export default async function setup(project: TestProject) {
  const moto = await startMoto();
  project.provide('awsEndpoint', moto.endpoint);
  return async () => {
    await moto.stop();
  };
}
