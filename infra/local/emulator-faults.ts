/**
 * The client of the emulator's fault control (`dynamodb_faults.py` beside the launcher): arms rules
 * that make the emulator answer chosen DynamoDB requests with DynamoDB's own errors, on the wire,
 * so the real SDK parses and retries them as it would in AWS.
 */

export type DynamoDbOperation =
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'TransactWriteItems'
  | 'BatchWriteItem'
  | 'GetItem'
  | 'BatchGetItem'
  | 'TransactGetItems'
  | 'Query'
  | 'Scan';

/**
 * `TransactionConflict`: a transaction is cancelled (`TransactionCanceledException` with that
 * reason), a single write answers `TransactionConflictException`. `ThrottlingError`: a transaction
 * cancelled with that reason. The others are thrown as they are named (`InternalServerError` is a 500).
 */
export type DynamoDbFaultError =
  | 'TransactionConflict'
  | 'ThrottlingError'
  | 'ProvisionedThroughputExceededException'
  | 'ThrottlingException'
  | 'RequestLimitExceeded'
  | 'InternalServerError';

export interface DynamoDbFaultRule {
  /** The tables it may fault: the emulator is shared by every test file, so name your own ('*': all). */
  tables: readonly string[] | '*';
  /** `*writes*`: PutItem, UpdateItem, DeleteItem, TransactWriteItems, BatchWriteItem; `*`: every item operation. */
  operations: DynamoDbOperation | '*writes*' | '*' | ReadonlyArray<DynamoDbOperation | '*writes*'>;
  error: DynamoDbFaultError;
  /** Chance that a matching request is faulted, 0..1 (default 1). */
  rate?: number;
  /** At most this many faults. */
  count?: number;
  /** Seeds the rate: the same sequence of requests gets the same faults. */
  seed?: number;
  /** Only requests touching an item that another request in flight is writing. */
  onlyContended?: boolean;
  /**
   * `faulted`: the SDK's retries of a call the rule faulted are faulted too, so the call fails
   * after all its attempts (throttling that outlasts them); `count` then counts calls. Default
   * `independent`: every attempt is a new draw.
   */
  retries?: 'independent' | 'faulted';
}

/** A rule as the emulator holds it, with its counts. */
export interface ArmedFault {
  id: string;
  tables: string[] | '*';
  operations: DynamoDbOperation[];
  error: DynamoDbFaultError;
  rate: number;
  count: number | null;
  seed: number | null;
  onlyContended: boolean;
  retries: 'independent' | 'faulted';
  /** Requests that qualified (operation, table, contention). */
  matched: number;
  /** Faults answered. */
  injected: number;
  /** SDK calls faulted (the faults answered, but a faulted call's retries). */
  calls: number;
}

/** One armed rule: read its counts, remove it (answering its final counts). */
export interface FaultHandle {
  readonly id: string;
  read(): Promise<ArmedFault>;
  clear(): Promise<ArmedFault>;
}

export class EmulatorFaultsError extends Error {
  override readonly name = 'EmulatorFaultsError';
}

function endpointOf(endpoint?: string): string {
  const base = endpoint ?? process.env.AWS_ENDPOINT_URL;
  if (!base) throw new EmulatorFaultsError('No emulator endpoint: pass one or set AWS_ENDPOINT_URL.');
  return base.replace(/\/+$/, '');
}

async function control<T>(method: string, url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.text();
  if (!response.ok) {
    const message = (() => {
      try {
        return (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        return text;
      }
    })();
    throw new EmulatorFaultsError(`${method} ${new URL(url).pathname}: ${response.status} ${message}`);
  }
  return JSON.parse(text) as T;
}

/** Arms a rule on the emulator at `endpoint` (default `AWS_ENDPOINT_URL`). */
export async function armFault(rule: DynamoDbFaultRule, endpoint?: string): Promise<FaultHandle> {
  const base = endpointOf(endpoint);
  const armed = await control<ArmedFault>('POST', `${base}/_faults`, rule);
  const url = `${base}/_faults/${encodeURIComponent(armed.id)}`;
  return {
    id: armed.id,
    read: () => control<ArmedFault>('GET', url),
    clear: () => control<ArmedFault>('DELETE', url),
  };
}

/** Every armed rule, with its counts. */
export async function listFaults(endpoint?: string): Promise<ArmedFault[]> {
  return (await control<{ rules: ArmedFault[] }>('GET', `${endpointOf(endpoint)}/_faults`)).rules;
}

/** Removes every rule (of every test file: prefer a handle's `clear`); answers them with their counts. */
export async function clearFaults(endpoint?: string): Promise<ArmedFault[]> {
  return (await control<{ rules: ArmedFault[] }>('DELETE', `${endpointOf(endpoint)}/_faults`)).rules;
}

/**
 * Keeps the emulator busy for `ms` (as behind a slow request) and resolves when it is free again:
 * requests sent meanwhile queue for it, in flight together. How a test makes contention on purpose
 * instead of by timing. It holds every test file's emulator: keep it short.
 */
export async function holdEmulator(ms: number, endpoint?: string): Promise<void> {
  await control<{ held: number }>('POST', `${endpointOf(endpoint)}/_faults/hold`, { ms });
}
