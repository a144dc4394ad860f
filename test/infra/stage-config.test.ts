import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildApp, DEPLOYED_STAGES } from '#infra/app.ts';
import { parseStageConfig, STAGES, StageConfigError, stageConfig } from '#infra/config/stage-config.ts';
import { webhookResourceNames } from '#shared/resource-names.ts';
import { subscriberOfQueueArn } from '#shared/webhooks/routing.ts';

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

  it('bounds webhook delivery concurrency per stage, within what an SQS event source accepts', () => {
    expect(stageConfig('dev').webhookMaxConcurrency).toBe(2);
    expect(stageConfig('staging').webhookMaxConcurrency).toBe(2);
    expect(stageConfig('prod').webhookMaxConcurrency).toBe(10);
    for (const value of [1, 1001, 2.5]) {
      expect(() => parseStageConfig({ ...STAGES.prod, webhookMaxConcurrency: value })).toThrow(
        /stage "prod".*webhookMaxConcurrency/,
      );
    }
    const { webhookMaxConcurrency: _, ...missing } = STAGES.prod!;
    expect(() => parseStageConfig(missing)).toThrow(/webhookMaxConcurrency/);
  });

  it('validates discovery at synth, naming the stage and the field', () => {
    expect(parseStageConfig({ ...STAGES.prod, discovery: { enabled: true } }).discovery).toEqual({
      enabled: true,
    });
    for (const [discovery, field] of [
      [{ enabled: true, statuses: ['ISSUED', 'LOST'] }, /stage "prod".*discovery\.statuses\.1/],
      [{ enabled: true, statuses: [] }, /stage "prod".*discovery\.statuses/],
      [
        { enabled: true, statuses: ['ISSUED', 'ISSUED'] },
        /stage "prod".*discovery\.statuses\.1 lists ISSUED twice/,
      ],
      [{ enabled: true, everyMinutes: 0 }, /stage "prod".*discovery\.everyMinutes/],
      [{ enabled: true, everyMinutes: 2.5 }, /stage "prod".*discovery\.everyMinutes/],
      [{ enabled: 'yes' }, /stage "prod".*discovery\.enabled/],
      [{ enabled: true, every: 5 }, /stage "prod".*discovery/],
      [undefined, /stage "prod".*discovery/],
    ] as const) {
      expect(() => parseStageConfig({ ...STAGES.prod, discovery }), JSON.stringify(discovery)).toThrow(field);
    }
  });

  it('refuses to build the local stage or an unknown one', () => {
    expect(() => buildApp('local')).toThrow(/not deployable.*npm start/);
    expect(() => buildApp('qa')).toThrow(StageConfigError);
  });

  it('refuses a subscriber named like a dead-letter queue, whose queue the deliverer would not route', () => {
    const dlqNamed = { ...subscriber('https://hooks.example.com/x'), name: 'merchant-dlq' };
    const config = { ...STAGES.prod, subscribers: [dlqNamed] };
    expect(() => parseStageConfig(config)).toThrow(StageConfigError);
    expect(() => parseStageConfig(config)).toThrow(/stage "prod".*subscribers\.0\.name .*"-dlq"/);
  });

  it.each([
    ['merchant', 'merchant-dlq'],
    ['merchant', 'merchant-rule'],
    ['merchant-rule', 'merchant'],
  ])('refuses subscribers %s and %s, whose queue names would collide', (first, second) => {
    const subscribers = [first, second].map((name) => ({
      ...subscriber('https://hooks.example.com/x'),
      name,
      secretName: `payout-link-tracker/prod/webhooks/${name}`,
    }));
    expect(() => parseStageConfig({ ...STAGES.prod, subscribers })).toThrow(
      /stage "prod".*subscribers\.[01]\.name /,
    );
  });

  it('refuses two subscribers sharing a signing secret, or one taking the InstantPay secret', () => {
    const a = { ...subscriber('https://hooks.example.com/a'), name: 'a', secretName: 'shared' };
    const b = { ...subscriber('https://hooks.example.com/b'), name: 'b', secretName: 'shared' };
    expect(() => parseStageConfig({ ...STAGES.prod, subscribers: [a, b] })).toThrow(
      /stage "prod".*subscribers\.1\.secretName is also the secret of subscriber "a"/,
    );
    const c = { ...a, secretName: STAGES.prod!.instantPaySecretName };
    expect(() => parseStageConfig({ ...STAGES.prod, subscribers: [c] })).toThrow(
      /subscribers\.0\.secretName is the InstantPay secret/,
    );
  });

  it('accepts only subscriber names whose AWS names are their own and route back to them', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,11}$/);
    fc.assert(
      fc.property(fc.constantFrom(...DEPLOYED_STAGES), name, name, (stage, first, second) => {
        fc.pre(first !== second);
        const subscribers = [first, second].map((n) => ({
          name: n,
          url: 'https://hooks.example.com/x',
          secretName: `payout-link-tracker/${stage}/webhooks/${n}`,
        }));
        let accepted = true;
        try {
          parseStageConfig({ ...STAGES[stage], subscribers });
        } catch {
          accepted = false;
        }
        if (!accepted) return;
        const queues = [first, second].map((n) => {
          const names = webhookResourceNames(stage, n);
          return [names.queue, names.deadLetterQueue, names.ruleDeadLetterQueue];
        });
        const all = queues.flat();
        expect(new Set(all).size).toBe(all.length);
        const rules = [first, second].map((n) => webhookResourceNames(stage, n).rule);
        expect(new Set(rules).size).toBe(2);
        const arn = (queue: string) => `arn:aws:sqs:ap-south-1:123456789012:${queue}`;
        [first, second].forEach((n, index) => {
          const [queue, dlq, ruleDlq] = queues[index]!;
          expect(subscriberOfQueueArn(stage, arn(queue!))).toBe(n);
          expect(subscriberOfQueueArn(stage, arn(dlq!))).toBeUndefined();
          expect(subscriberOfQueueArn(stage, arn(ruleDlq!))).toBeUndefined();
        });
      }),
      {
        numRuns: 500,
        examples: [
          ['prod', 'a', 'a-dlq'],
          ['prod', 'a', 'a-rule'],
          ['prod', 'x-dlq', 'y'],
        ],
      },
    );
  });
});
