import { describe, expect, it } from 'vitest';
import { buildApp, DEPLOYED_STAGES } from '#infra/app.ts';
import { parseStageConfig, STAGES, StageConfigError, stageConfig } from '#infra/config/stage-config.ts';

const subscriber = (url: string) => ({
  name: 'merchant',
  url,
  secretName: 'payout-link-tracker/prod/webhooks/merchant',
});

describe('the stage config at synth time', () => {
  it.each(DEPLOYED_STAGES)('accepts the %s config as it stands', (stage) => {
    expect(stageConfig(stage).stage).toBe(stage);
  });

  it.each([
    ['http://hooks.example.com/x', /must use https/],
    ['https://127.0.0.1/hook', /loopback/],
    ['https://10.0.0.8/hook', /private, link-local or metadata/],
    ['https://169.254.169.254/latest/meta-data', /private, link-local or metadata/],
    ['https://[::1]/hook', /loopback/],
  ])('refuses the subscriber URL %s in a deployed stage, naming the stage and the field', (url, reason) => {
    const config = { ...STAGES.prod, subscribers: [subscriber(url)] };
    expect(() => parseStageConfig(config)).toThrow(StageConfigError);
    expect(() => parseStageConfig(config)).toThrow(/stage "prod".*subscribers\.0\.url/);
    expect(() => parseStageConfig(config)).toThrow(reason);
  });

  it('lets the local stage deliver to a loopback http URL', () => {
    const config = parseStageConfig({
      ...STAGES.local,
      subscribers: [subscriber('http://127.0.0.1:9000/hook')],
    });
    expect(config.subscribers[0]?.url).toBe('http://127.0.0.1:9000/hook');
  });

  it('refuses subscriber names that would make AWS resource names too long, and uneven shard groups', () => {
    const long = { ...subscriber('https://hooks.example.com/x'), name: 'a'.repeat(32) };
    expect(() => parseStageConfig({ ...STAGES.prod, subscribers: [long] })).toThrow(
      /subscribers\.0\.name is too long/,
    );
    expect(() => parseStageConfig({ ...STAGES.prod, recheckParallelRuns: 3 })).toThrow(/recheckParallelRuns/);
  });

  it('refuses to build the local stage or an unknown one', () => {
    expect(() => buildApp('local')).toThrow(/not deployable.*npm start/);
    expect(() => buildApp('qa')).toThrow(StageConfigError);
  });
});
