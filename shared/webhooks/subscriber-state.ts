import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { sharedDocumentClient } from '#shared/store/link-store.ts';

export interface SubscriberState {
  disabled: boolean;
  disabledAt?: string;
  reason?: string;
}

/**
 * A subscriber's delivery state, kept in the link table (`pk = SUBSCRIBER#<name>`): a 410 Gone
 * disables it until an operator redrives its dead-letter queue. Read through a short cache.
 */
export class SubscriberStateStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly cache = new Map<string, { state: SubscriberState; until: number }>();

  constructor(
    private readonly tableName: string,
    options: { client?: DynamoDBDocumentClient; cacheMs?: number } = {},
  ) {
    this.db = options.client ?? sharedDocumentClient();
    this.cacheMs = options.cacheMs ?? 30_000;
  }

  private readonly cacheMs: number;

  async get(name: string, now = Date.now()): Promise<SubscriberState> {
    const cached = this.cache.get(name);
    if (cached && cached.until > now) return cached.state;
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key(name) }));
    const state: SubscriberState = Item
      ? { disabled: Item.disabled === true, disabledAt: Item.disabledAt, reason: Item.reason }
      : { disabled: false };
    this.cache.set(name, { state, until: now + this.cacheMs });
    return state;
  }

  async set(name: string, state: SubscriberState, now = Date.now()): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { ...key(name), type: 'subscriber', ...state } }),
    );
    this.cache.set(name, { state, until: now + this.cacheMs });
  }
}

function key(name: string) {
  return { pk: `SUBSCRIBER#${name}`, sk: 'STATE' };
}
