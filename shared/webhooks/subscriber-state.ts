import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { sharedDocumentClient } from '#shared/store/link-store.ts';

export interface SubscriberState {
  disabled: boolean;
  disabledAt?: string;
  reason?: string;
}

/**
 * A subscriber's delivery state, kept in the link table (`pk = SUBSCRIBER#<name>`): a 410 Gone
 * disables it until an operator redrives its dead-letter queue, which enables it again. Read through
 * a short cache; `fresh` reads past it (the deliverer does before it dead-letters a delivery as
 * "disabled", so a redrive is not undone by a warm container's stale copy).
 */
export class SubscriberStateStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly cache = new Map<string, { state: SubscriberState; until: number }>();
  private readonly cacheMs: number;

  constructor(
    private readonly tableName: string,
    options: { client?: DynamoDBDocumentClient; cacheMs?: number } = {},
  ) {
    this.db = options.client ?? sharedDocumentClient();
    this.cacheMs = options.cacheMs ?? 30_000;
  }

  async get(name: string, now = Date.now(), options: { fresh?: boolean } = {}): Promise<SubscriberState> {
    const cached = this.cache.get(name);
    if (!options.fresh && cached && cached.until > now) return cached.state;
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: subscriberStateKey(name), ConsistentRead: true }),
    );
    const state = stateOf(Item);
    this.cache.set(name, { state, until: now + this.cacheMs });
    return state;
  }

  async set(name: string, state: SubscriberState, now = Date.now()): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...subscriberStateKey(name), type: 'subscriber', ...state },
      }),
    );
    this.cache.set(name, { state, until: now + this.cacheMs });
  }

  /** Enables the subscriber again (an operator's redrive); returns the state it had. */
  async enable(name: string, now = Date.now()): Promise<SubscriberState> {
    const { Attributes } = await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...subscriberStateKey(name),
          type: 'subscriber',
          disabled: false,
          enabledAt: new Date(now).toISOString(),
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    this.cache.set(name, { state: { disabled: false }, until: now + this.cacheMs });
    return stateOf(Attributes);
  }
}

function stateOf(item: Record<string, unknown> | undefined): SubscriberState {
  if (item?.disabled !== true) return { disabled: false };
  return {
    disabled: true,
    ...(typeof item.disabledAt === 'string' ? { disabledAt: item.disabledAt } : {}),
    ...(typeof item.reason === 'string' ? { reason: item.reason } : {}),
  };
}

/** The one item of a subscriber's state; its partition key is also the deliverer's IAM `LeadingKeys`. */
export function subscriberStateKey(name: string) {
  return { pk: `SUBSCRIBER#${name}`, sk: 'STATE' };
}
