/** A secret could not be read from Secrets Manager (missing, access denied, endpoint down). */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
  constructor(
    readonly secretName: string,
    options?: { cause?: unknown },
  ) {
    super(`The secret ${secretName} could not be read from Secrets Manager.`, options);
  }
}

/** A secret was read but its JSON is not the expected shape. Names the fields, never a value. */
export class MalformedSecretError extends Error {
  override readonly name = 'MalformedSecretError';
  constructor(
    readonly secretName: string,
    readonly problems: readonly string[],
  ) {
    super(`The secret ${secretName} is malformed: ${problems.join('; ')}.`);
  }
}

/** The secret still holds the placeholder the stack created: an operator has to set it. */
export class SecretNotConfiguredError extends Error {
  override readonly name = 'SecretNotConfiguredError';
  constructor(
    readonly secretName: string,
    hint: string,
  ) {
    super(`The secret ${secretName} still holds its placeholder: ${hint}`);
  }
}
