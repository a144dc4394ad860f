import { randomUUID } from 'node:crypto';
import {
  DynamoDBClient,
  type DynamoDBClientConfig,
  InternalServerError,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createQueue, createTable, localClients } from '#infra/local/aws-resources.ts';
import {
  armFault,
  clearFaults,
  type DynamoDbFaultRule,
  EmulatorFaultsError,
  holdEmulator,
  listFaults,
} from '#infra/local/emulator-faults.ts';
import { type MotoServer, startMoto } from '#infra/local/moto.ts';
import { AWS_CLIENT_CONFIG } from '#shared/aws/client-config.ts';

/** The tracker's own client settings: 3 attempts with the SDK's standard retry strategy. */
function documentClient(config: DynamoDBClientConfig = AWS_CLIENT_CONFIG) {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config));
}

const db = documentClient();
const once = documentClient({ ...AWS_CLIENT_CONFIG, maxAttempts: 1 });
let table: string;
let other: string;

beforeAll(async () => {
  const clients = localClients();
  table = `faults-${randomUUID().slice(0, 8)}`;
  other = `untouched-${randomUUID().slice(0, 8)}`;
  await Promise.all([createTable(clients, table), createTable(clients, other)]);
});

/** Arms a rule on the shared emulator, removed when the test ends whatever happens. */
async function arm(rule: Omit<DynamoDbFaultRule, 'tables'> & { tables?: DynamoDbFaultRule['tables'] }) {
  const handle = await armFault({ tables: [table], ...rule });
  onTestFinished(async () => {
    await handle.clear().catch(() => undefined);
  });
  return handle;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const key = (pk: string) => ({ pk, sk: 'LINK' });
const put = (name: string, pk: string) => new PutCommand({ TableName: name, Item: { ...key(pk), n: 1 } });
const transaction = (pkA: string, pkB: string) =>
  new TransactWriteCommand({
    TransactItems: [
      {
        Put: {
          TableName: table,
          Item: { ...key(pkA), n: 1 },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Update: {
          TableName: table,
          Key: key(pkB),
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': 2 },
        },
      },
    ],
  });

/** An SDK service error as the tests read it. */
type SdkError = Error & {
  $fault: 'client' | 'server';
  $metadata: { httpStatusCode?: number; attempts?: number; requestId?: string };
  CancellationReasons: Array<{ Code?: string; Message?: string }>;
  ThrottlingReasons?: Array<{ reason?: string; resource?: string }>;
  throttlingReasons?: Array<{ reason?: string; resource?: string }>;
};

async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    return error as SdkError;
  }
  throw new Error('expected the call to fail');
}

describe('the emulator fault control, with the real SDK', () => {
  it('cancels a TransactWriteItems with TransactionConflict as DynamoDB does: not retried, the reasons per item, nothing written', async () => {
    const rule = await arm({ operations: 'TransactWriteItems', error: 'TransactionConflict', count: 1 });

    const error = await rejection(db.send(transaction('conflict-a', 'conflict-b')));

    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.name).toBe('TransactionCanceledException');
    expect(error.CancellationReasons).toEqual([
      { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
      { Code: 'None' },
    ]);
    expect(error.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]',
    );
    expect(error.$fault).toBe('client');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 });
    expect(error.$metadata.requestId).toMatch(/^[A-Z0-9]{52}$/);
    expect(
      (await db.send(new GetCommand({ TableName: table, Key: key('conflict-a') }))).Item,
    ).toBeUndefined();
    expect(await rule.read()).toMatchObject({ matched: 1, injected: 1 });
    // Spent: the same transaction now goes through.
    await db.send(transaction('conflict-a', 'conflict-b'));
  });

  it('names the conflicting item of the faulted table, "None" for an item of another table', async () => {
    await arm({ operations: 'TransactWriteItems', error: 'TransactionConflict', count: 1 });

    const error = await rejection(
      db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: other, Item: { ...key('elsewhere'), n: 1 } } },
            { Put: { TableName: table, Item: { ...key('here'), n: 1 } } },
          ],
        }),
      ),
    );

    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.CancellationReasons.map((reason) => reason.Code)).toEqual(['None', 'TransactionConflict']);
    expect(error.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
    );
  });

  it('answers a single write TransactionConflictException, which the SDK does not retry', async () => {
    await arm({ operations: 'UpdateItem', error: 'TransactionConflict', count: 1 });

    const error = await rejection(
      db.send(
        new UpdateCommand({
          TableName: table,
          Key: key('single'),
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': 1 },
        }),
      ),
    );

    expect(error).toBeInstanceOf(TransactionConflictException);
    expect(error.$metadata).toMatchObject({ httpStatusCode: 400, attempts: 1 });
  });

  it('cancels a transaction with ThrottlingError as a cancellation reason', async () => {
    await arm({ operations: 'TransactWriteItems', error: 'ThrottlingError', count: 1 });

    const error = await rejection(db.send(transaction('throttled-a', 'throttled-b')));

    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.CancellationReasons[0]).toMatchObject({ Code: 'ThrottlingError' });
    expect(error.CancellationReasons[1]).toEqual({ Code: 'None' });
    expect(error.$metadata.attempts).toBe(1);
  });

  it.each([
    ['ProvisionedThroughputExceededException', 400],
    ['ThrottlingException', 400],
    ['RequestLimitExceeded', 400],
    ['InternalServerError', 500],
  ] as const)('retries one %s (HTTP %i) and then succeeds: two attempts', async (code, status) => {
    const rule = await arm({ operations: '*writes*', error: code, count: 1 });

    const result = await db.send(put(table, `retried-${code}`));

    expect(result.$metadata.attempts).toBe(2);
    expect(await rule.read()).toMatchObject({ injected: 1 });
    // The fault itself, as the SDK saw it on the wire.
    await arm({ operations: 'PutItem', error: code, count: 1 });
    const error = await rejection(once.send(put(table, `seen-${code}`)));
    expect(error.name).toBe(code);
    expect(error.$metadata.httpStatusCode).toBe(status);
    expect(error.$fault).toBe(status === 500 ? 'server' : 'client');
  });

  it('gives up after the SDK attempts with the throttling error and its reasons', async () => {
    await arm({ operations: 'PutItem', error: 'ProvisionedThroughputExceededException', count: 3 });
    const provisioned = await rejection(db.send(put(table, 'given-up')));
    expect(provisioned).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(provisioned.$metadata.attempts).toBe(3);
    expect(provisioned.ThrottlingReasons).toEqual([
      {
        reason: 'TableWriteKeyRangeThroughputExceeded',
        resource: expect.stringMatching(new RegExp(`^arn:aws:dynamodb:ap-south-1:\\d{12}:table/${table}$`)),
      },
    ]);

    await arm({ operations: 'UpdateItem', error: 'ThrottlingException', count: 1 });
    const throttled = await rejection(
      once.send(
        new UpdateCommand({
          TableName: table,
          Key: key('given-up'),
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': 1 },
        }),
      ),
    );
    expect(throttled).toBeInstanceOf(ThrottlingException);
    expect(throttled.throttlingReasons?.[0]?.reason).toBe('TableWriteMaxOnDemandThroughputExceeded');

    await arm({ operations: 'GetItem', error: 'InternalServerError', count: 1 });
    const internal = await rejection(once.send(new GetCommand({ TableName: table, Key: key('given-up') })));
    expect(internal).toBeInstanceOf(InternalServerError);
  });

  it('with retries "faulted", fails a call on every SDK attempt and counts calls: throttling that outlasts the retries', async () => {
    const rule = await arm({
      operations: 'TransactWriteItems',
      error: 'ProvisionedThroughputExceededException',
      count: 1,
      retries: 'faulted',
    });

    const error = await rejection(db.send(transaction('outlasted-a', 'outlasted-b')));
    const next = await db.send(transaction('outlasted-c', 'outlasted-d'));

    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(error.$metadata.attempts).toBe(3);
    expect(next.$metadata.attempts).toBe(1);
    expect(await rule.read()).toMatchObject({ calls: 1, injected: 3, matched: 3 });
  });

  it('faults at the given rate, the same requests for the same seed', async () => {
    const pattern = async () => {
      const rule = await arm({ operations: 'PutItem', error: 'InternalServerError', rate: 0.5, seed: 7 });
      const outcomes: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        outcomes.push(
          await once.send(put(table, `rate-${i}`)).then(
            () => true,
            () => false,
          ),
        );
      }
      return { outcomes, counts: await rule.clear() };
    };

    const first = await pattern();
    const second = await pattern();

    const faulted = first.outcomes.filter((ok) => !ok).length;
    expect(faulted).toBeGreaterThan(5);
    expect(faulted).toBeLessThan(35);
    expect(first.counts).toMatchObject({ matched: 40, injected: faulted });
    expect(second.outcomes).toEqual(first.outcomes);
  });

  it('faults at most `count` times, then lets every request through', async () => {
    const rule = await arm({ operations: 'PutItem', error: 'InternalServerError', count: 2 });

    const outcomes = [];
    for (let i = 0; i < 5; i++)
      outcomes.push(
        await once.send(put(table, `count-${i}`)).then(
          () => 'ok',
          (e) => e.name,
        ),
      );

    expect(outcomes).toEqual(['InternalServerError', 'InternalServerError', 'ok', 'ok', 'ok']);
    expect(await rule.read()).toMatchObject({ matched: 2, injected: 2 });
  });

  it('touches only its own tables: another table, and every other service, are served as usual', async () => {
    const rule = await arm({ operations: '*', error: 'InternalServerError' });

    for (let i = 0; i < 5; i++) await once.send(put(other, `scoped-${i}`));
    await createQueue(localClients(), `faults-untouched-${randomUUID().slice(0, 6)}`);
    expect(await rule.read()).toMatchObject({ matched: 0, injected: 0 });
    expect((await rejection(once.send(put(table, 'scoped')))).name).toBe('InternalServerError');
  });

  it('faults only requests whose item another request in flight is writing, with onlyContended', async () => {
    const rule = await arm({
      operations: 'TransactWriteItems',
      error: 'TransactionConflict',
      onlyContended: true,
    });
    // Alone, one after another: never contended.
    for (let i = 0; i < 3; i++) await db.send(transaction(`alone-${i}`, 'alone-b'));
    expect(await rule.read()).toMatchObject({ matched: 0, injected: 0 });

    // An update of the transaction's second item and the transaction, both sent while the
    // emulator is held (as behind a slow request): both in flight at once, whatever the machine's
    // load (racing a queue of updates by timing was flaky). A round whose hold had not begun when
    // they arrived (another file's request held the emulator) is tried again.
    let error: SdkError | undefined;
    for (let round = 0; round < 3 && !error; round++) {
      const held = holdEmulator(1_000);
      await sleep(100);
      const update = db.send(
        new UpdateCommand({
          TableName: table,
          Key: key('hot'),
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': round },
        }),
      );
      error = await once.send(transaction(`raced-${round}`, 'hot')).then(
        () => undefined,
        (e: SdkError) => e,
      );
      await Promise.all([held, update]);
    }

    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error?.CancellationReasons.map((reason) => reason.Code)).toEqual(['None', 'TransactionConflict']);
    const counts = await rule.read();
    expect(counts.injected).toBeGreaterThan(0);
    expect(counts.matched).toBe(counts.injected);
  });

  it('holds the emulator for the time asked, and refuses a hold it cannot give', async () => {
    await expect(holdEmulator(10_001)).rejects.toThrow(
      /400 invalid hold: ms must be an integer from 0 to 10000/,
    );
    await expect(holdEmulator(1.5)).rejects.toThrow(EmulatorFaultsError);
    await expect(holdEmulator(0)).resolves.toBeUndefined();
  });

  it('stops faulting once cleared', async () => {
    const rule = await arm({ operations: 'PutItem', error: 'InternalServerError' });
    expect((await rejection(once.send(put(table, 'cleared')))).name).toBe('InternalServerError');

    expect(await rule.clear()).toMatchObject({ injected: 1 });

    await once.send(put(table, 'cleared'));
    expect((await listFaults()).map((armed) => armed.id)).not.toContain(rule.id);
  });

  it('refuses a rule without tables, or with an unknown error or operation, naming the field', async () => {
    await expect(
      armFault({ operations: 'PutItem', error: 'InternalServerError' } as unknown as DynamoDbFaultRule),
    ).rejects.toThrow(/400 invalid fault rule: tables is required/);
    await expect(
      armFault({ tables: [table], operations: 'PutItem', error: 'Oops' } as unknown as DynamoDbFaultRule),
    ).rejects.toThrow(EmulatorFaultsError);
    await expect(
      armFault({
        tables: [table],
        operations: 'PutItems',
        error: 'InternalServerError',
      } as unknown as DynamoDbFaultRule),
    ).rejects.toThrow(/unknown operation 'PutItems'/);
    await expect(
      armFault({ tables: [table], operations: 'GetItem', error: 'TransactionConflict' }),
    ).rejects.toThrow(/reads do not conflict/);
  });
});

describe('an emulator started with MOTO_FAULTS', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await startMoto({
      env: {
        MOTO_FAULTS: JSON.stringify([
          { tables: '*', operations: 'PutItem', error: 'InternalServerError', count: 1 },
        ]),
      },
    });
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('has the rules armed from its start, and clears them all', async () => {
    const own = documentClient({ ...AWS_CLIENT_CONFIG, maxAttempts: 1, endpoint: moto.endpoint });
    const name = `startup-${randomUUID().slice(0, 8)}`;
    await createTable({ ...localClients(), dynamodb: new DynamoDBClient({ endpoint: moto.endpoint }) }, name);

    expect((await rejection(own.send(put(name, 'first')))).name).toBe('InternalServerError');
    await own.send(put(name, 'second'));

    expect(await listFaults(moto.endpoint)).toMatchObject([{ id: 'fault-1', tables: '*', injected: 1 }]);
    expect(await clearFaults(moto.endpoint)).toHaveLength(1);
    expect(await listFaults(moto.endpoint)).toEqual([]);
  });
});
