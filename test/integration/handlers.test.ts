import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { httpApiEvent } from '#infra/local/http-api-event.ts';
import { SAMPLE_CREDENTIALS } from '#infra/sandbox/server.ts';
import { trackerFixture } from '#test/support/tracker-fixture.ts';

// The deployed entry points, wired from the environment exactly as in Lambda, invoked in-process.
let world: Awaited<ReturnType<typeof trackerFixture>>;
const output: string[] = [];

function context(remainingMs: number): Context {
  const deadline = Date.now() + remainingMs;
  return {
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:ap-south-1:000000000000:function:test',
    memoryLimitInMB: '256',
    awsRequestId: 'req-1',
    logGroupName: 'g',
    logStreamName: 's',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

beforeAll(async () => {
  world = await trackerFixture();
  Object.assign(process.env, {
    STAGE: 'test',
    TABLE_NAME: world.names.table,
    EVENT_BUS_NAME: world.names.bus,
    INSTANTPAY_SECRET_NAME: world.names.secret,
    // track-link also serves the delivery routes: the attempt log and the (here, no) subscribers.
    DELIVERIES_TABLE_NAME: `${world.names.table}-deliveries`,
    WEBHOOK_SUBSCRIBERS: '[]',
    POWERTOOLS_LOG_LEVEL: 'INFO',
    RECHECK_STOP_BEFORE_MS: '1000',
  });
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    output.push(String(chunk));
    return typeof chunk === 'string' && chunk.startsWith('{') ? true : write(chunk, ...(rest as []));
  });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await world.close();
});

describe('the Lambda entry points', () => {
  it('track-link answers an API Gateway v2 event with the link view and logs with the request id', async () => {
    const { handler } = await import('#functions/track-link/handler.ts');
    const linkId = world.sandbox.createLink({ amount: 7, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    const response = (await handler(
      httpApiEvent({ method: 'GET', rawPath: `/links/${linkId}` }),
      context(10_000),
    )) as APIGatewayProxyStructuredResultV2;
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body ?? '{}')).toMatchObject({ linkId, status: 'ISSUED' });
    const logs = output
      .join('')
      .split('\n')
      .filter((line) => line.includes('"change recorded"'));
    expect(logs[0]).toContain(linkId);
    expect(logs[0]).toContain('"function_request_id":"req-1"');
  });

  it('recheck-pending sweeps the due links and publishes its summary and metrics', async () => {
    const { handler } = await import('#functions/recheck-pending/handler.ts');
    output.length = 0;
    await handler({ shardGroup: 0 }, context(30_000));
    const text = output.join('');
    expect(text).toContain('"recheck run finished"');
    const emf = text
      .split('\n')
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line));
    const names = emf.flatMap((m) =>
      m._aws.CloudWatchMetrics[0].Metrics.map((metric: { Name: string }) => metric.Name),
    );
    for (const name of [
      'LinksChecked',
      'TransitionsRecorded',
      'UpstreamErrors',
      'DueBacklog',
      'OldestDueAgeSeconds',
      'Republished',
    ]) {
      expect(names).toContain(name);
    }
    expect(emf[0]).toMatchObject({ stage: 'test' });
    expect(text).not.toContain(SAMPLE_CREDENTIALS.clientSecret);
  });
});
