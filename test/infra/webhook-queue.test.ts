import { describe, expect, it } from 'vitest';
import { DEPLOYED_STAGES } from '#infra/app.ts';
import { stageConfig } from '#infra/config/stage-config.ts';
import { webhookResourceNames } from '#shared/resource-names.ts';
import {
  DELIVERY_TIMEOUT_MS,
  MAX_VISIBILITY_SECONDS,
  RETRY_WINDOW_MS,
  retryFloorSeconds,
} from '#shared/webhooks/routing.ts';
import { only, synthStage } from './template-helpers.ts';

const WINDOW_S = RETRY_WINDOW_MS / 1000;

/** The receive at which the function sees the message past the window, however short every wait. */
function worstCaseDeadLetterReceive(): number {
  let waited = 0;
  let receive = 1;
  while (waited < WINDOW_S) waited += retryFloorSeconds(receive++);
  return receive;
}

/**
 * The queue settings as synthesized, read from the template (not from the constants that feed it),
 * against the delivery schedule: the function, not the redrive policy, ends a delivery's 24 hours.
 */
const WITH_SUBSCRIBERS = DEPLOYED_STAGES.filter((stage) => stageConfig(stage).subscribers.length > 0);

describe.each(WITH_SUBSCRIBERS)('the %s webhook queues against the retry schedule', (stage) => {
  const subscribers = stageConfig(stage).subscribers;

  it.each(subscribers.map((s) => s.name))(
    '%s: no delivery is dead-lettered by SQS before 24 hours, nor lost',
    (name) => {
      const { template } = synthStage(stage);
      const names = webhookResourceNames(stage, name);
      const queue = only(template, 'AWS::SQS::Queue', { QueueName: names.queue }).resource.Properties as {
        VisibilityTimeout: number;
        MessageRetentionPeriod: number;
        RedrivePolicy: { maxReceiveCount: number };
      };
      const deadLetters = only(template, 'AWS::SQS::Queue', { QueueName: names.deadLetterQueue }).resource
        .Properties as { MessageRetentionPeriod?: number };
      const { maxReceiveCount } = queue.RedrivePolicy;
      const visibility = queue.VisibilityTimeout;

      // The function dead-letters a failing delivery at the first receive past 24 hours, even if every
      // wait was its attempt's floor: the redrive policy must allow that many receives.
      expect(worstCaseDeadLetterReceive()).toBeLessThanOrEqual(maxReceiveCount);
      // Receives the function ends with no decision (a crash) hold the message for the queue's own
      // visibility timeout: even then the redrive policy cannot fire within the window.
      let held = 0;
      for (let receive = 1; receive <= maxReceiveCount; receive++)
        held += Math.min(retryFloorSeconds(receive), visibility);
      expect(held, `${maxReceiveCount} receives hold a message at least ${held} s`).toBeGreaterThanOrEqual(
        WINDOW_S,
      );
      // A message outlives the longest life the schedule gives it (the window, a last 12-hour wait, and
      // every receive after it crashed): SQS never deletes one before it is dead-lettered.
      expect(queue.MessageRetentionPeriod).toBeGreaterThanOrEqual(
        WINDOW_S + MAX_VISIBILITY_SECONDS + maxReceiveCount * visibility,
      );
      // SQS keeps a redriven message's first enqueue time: the dead-letter queue keeps it at least as long.
      expect(deadLetters.MessageRetentionPeriod ?? 4 * 24 * 3600).toBeGreaterThanOrEqual(
        queue.MessageRetentionPeriod,
      );
      // An attempt (15 s) always ends within the function's timeout, within the visibility timeout.
      const fn = only(template, 'AWS::Lambda::Function', {
        FunctionName: `payout-link-tracker-${stage}-deliver-webhooks`,
      }).resource.Properties as { Timeout: number };
      expect(DELIVERY_TIMEOUT_MS / 1000).toBeLessThan(fn.Timeout);
      expect(visibility).toBeGreaterThanOrEqual(6 * fn.Timeout);
    },
  );
});
