import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { instantPayCredentials } from '#shared/credentials/instantpay-credentials.ts';
import {
  MalformedSecretError,
  SecretNotConfiguredError,
  SecretUnavailableError,
} from '#shared/credentials/secret-errors.ts';
import { countCalls } from '#test/support/sdk-call-counter.ts';

const good = { clientId: 'client-id', clientSecret: 'very-secret-value', endpointIp: '125.0.0.1' };

async function newSecret(value: unknown) {
  const client = new SecretsManagerClient({});
  const secretName = `test/instantpay/${randomUUID()}`;
  await client.send(
    new CreateSecretCommand({
      Name: secretName,
      SecretString: typeof value === 'string' ? value : JSON.stringify(value),
    }),
  );
  const calls = countCalls(client);
  const put = (next: unknown) =>
    client.send(new PutSecretValueCommand({ SecretId: secretName, SecretString: JSON.stringify(next) }));
  return { client, secretName, calls, put };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('instantPayCredentials (Secrets Manager on the emulator)', () => {
  it('reads and validates the secret, defaulting authCode to "1"', async () => {
    const { client, secretName } = await newSecret({ ...good, baseUrl: 'http://127.0.0.1:8000' });
    const credentials = instantPayCredentials({ secretName, client });
    await expect(credentials.get()).resolves.toEqual({
      ...good,
      authCode: '1',
      baseUrl: 'http://127.0.0.1:8000',
    });
  });

  it('answers from its cache within the max age and refetches after it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { client, secretName, calls, put } = await newSecret(good);
    const credentials = instantPayCredentials({ secretName, client, maxAgeSeconds: 300 });

    await credentials.get();
    await put({ ...good, clientSecret: 'rotated' });
    vi.advanceTimersByTime(299_000);
    await expect(credentials.get()).resolves.toMatchObject({ clientSecret: 'very-secret-value' });
    expect(calls.get('GetSecretValueCommand')).toBe(1);

    vi.advanceTimersByTime(2_000);
    await expect(credentials.get()).resolves.toMatchObject({ clientSecret: 'rotated' });
    expect(calls.get('GetSecretValueCommand')).toBe(2);
  });

  it('shares one fetch between concurrent readers', async () => {
    const { client, secretName, calls } = await newSecret(good);
    const credentials = instantPayCredentials({ secretName, client });
    await Promise.all(Array.from({ length: 16 }, () => credentials.get()));
    expect(calls.get('GetSecretValueCommand')).toBe(1);
  });

  it('refetches at once when forced, even within the max age', async () => {
    const { client, secretName, calls, put } = await newSecret(good);
    const credentials = instantPayCredentials({ secretName, client });
    await credentials.get();
    await put({ ...good, clientSecret: 'rotated' });
    await expect(credentials.get({ forceFetch: true })).resolves.toMatchObject({ clientSecret: 'rotated' });
    await expect(credentials.get()).resolves.toMatchObject({ clientSecret: 'rotated' });
    expect(calls.get('GetSecretValueCommand')).toBe(2);
  });

  it('names the missing field of a malformed secret, never a value', async () => {
    const { client, secretName } = await newSecret({
      clientId: 'client-id',
      endpointIp: '125.0.0.1',
      extra: 'hush-123',
    });
    const error = await instantPayCredentials({ secretName, client })
      .get()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect((error as Error).message).toContain('missing field clientSecret');
    expect((error as Error).message).toContain(secretName);
    expect((error as Error).message).not.toContain('client-id');
    expect((error as Error).message).not.toContain('hush-123');
  });

  it('refuses an authCode other than the documented "1", naming the field, never its value', async () => {
    const { client, secretName } = await newSecret({ ...good, authCode: '2' });
    const error = await instantPayCredentials({ secretName, client })
      .get()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect((error as Error).message).toContain('authCode');
    expect((error as Error).message).not.toContain('very-secret-value');
  });

  it('rejects a secret that is not JSON without quoting it', async () => {
    const { client, secretName } = await newSecret('clientSecret=oops-hunter2');
    const error = await instantPayCredentials({ secretName, client })
      .get()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('rejects the placeholder the stack creates, telling the operator what to set', async () => {
    const { client, secretName } = await newSecret({ placeholder: true });
    await expect(instantPayCredentials({ secretName, client }).get()).rejects.toThrow(
      SecretNotConfiguredError,
    );
  });

  it('reports a secret that does not exist as unavailable, naming it', async () => {
    const credentials = instantPayCredentials({
      secretName: 'test/does-not-exist',
      client: new SecretsManagerClient({}),
    });
    const error = await credentials.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect((error as Error).message).toContain('test/does-not-exist');
  });
});
