import type { Context } from 'aws-lambda';
import { type FunctionName, lambdaFunctionName, logGroupName } from '#shared/resource-names.ts';

/** The Lambda context of one local invocation of a `local` stage function, with its deadline. */
export function lambdaContext(name: FunctionName, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = lambdaFunctionName('local', name);
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: crypto.randomUUID(),
    logGroupName: logGroupName('local', name),
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
