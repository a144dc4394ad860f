// One Lambda invocation as the Node.js runtime makes it, in this process (Node 24, the deployed
// runtime): import the handler's module, call the handler with the event and a context, and
// report the outcome on file descriptor 3 (stdout and stderr stay the function's log, as in Lambda).
// Input, as JSON on stdin: {module, exportName, event, functionName, memoryMb, timeoutMs}.
import { randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const deadline = Date.now() + input.timeoutMs;
const context = {
  functionName: input.functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:000000000000:function:${input.functionName}`,
  memoryLimitInMB: String(input.memoryMb),
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${input.functionName}`,
  logStreamName: `${new Date().toISOString().slice(0, 10)}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  done: () => {},
  fail: () => {},
  succeed: () => {},
};

let outcome;
try {
  const handlerModule = await import(pathToFileURL(input.module).href);
  const handler = handlerModule[input.exportName];
  if (typeof handler !== 'function')
    throw new TypeError(`${input.module} exports no function ${input.exportName}`);
  outcome = { ok: true, result: (await handler(input.event, context)) ?? null };
} catch (error) {
  outcome = { ok: false, error: { name: error?.name, message: error?.message, stack: error?.stack } };
}
writeSync(3, JSON.stringify({ ...outcome, nodeVersion: process.version }));
// Lambda freezes the sandbox here; idle keep-alive sockets must not keep this process alive.
process.exit(0);
