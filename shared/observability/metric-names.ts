/**
 * The tracker's own metrics, defined once: the functions write them (`emf.ts`) and the dashboard
 * and alarms read them (`infra/constructs/monitoring*.ts`) by these names, so a misspelt name is a
 * compile error instead of an empty graph or an alarm that never fires.
 */
export const METRICS_NAMESPACE = 'PayoutLinkTracker';

export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds';

export const METRICS = {
  // recheck-pending, once per run
  linksChecked: { name: 'LinksChecked', unit: 'Count' },
  transitionsRecorded: { name: 'TransitionsRecorded', unit: 'Count' },
  upstreamErrors: { name: 'UpstreamErrors', unit: 'Count' },
  dueBacklog: { name: 'DueBacklog', unit: 'Count' },
  oldestDueAgeSeconds: { name: 'OldestDueAgeSeconds', unit: 'Seconds' },
  republished: { name: 'Republished', unit: 'Count' },
  outboxBacklog: { name: 'OutboxBacklog', unit: 'Count' },
  oldestUnpublishedAgeSeconds: { name: 'OldestUnpublishedAgeSeconds', unit: 'Seconds' },
  outboxQuarantined: { name: 'OutboxQuarantined', unit: 'Count' },
  detectionDelaySeconds: { name: 'DetectionDelaySeconds', unit: 'Seconds' },
  // discover-links, once per run
  linksDiscovered: { name: 'LinksDiscovered', unit: 'Count' },
  discoveryPagesRead: { name: 'DiscoveryPagesRead', unit: 'Count' },
  // the core, from track-link or recheck-pending, when InstantPay contradicts a final status
  upstreamFinalConflicts: { name: 'UpstreamFinalConflicts', unit: 'Count' },
  // deliver-webhooks, once per delivery, with the `subscriber` dimension
  webhookLatencyMs: { name: 'WebhookLatencyMs', unit: 'Milliseconds' },
  webhookDelivered: { name: 'WebhookDelivered', unit: 'Count' },
  webhookFailed: { name: 'WebhookFailed', unit: 'Count' },
} as const satisfies Record<string, { name: string; unit: MetricUnit }>;

export type MetricDefinition = (typeof METRICS)[keyof typeof METRICS];
export type MetricName = MetricDefinition['name'];

/** Dimensions a metric may carry besides `service` and `stage`. */
export interface ExtraDimensions {
  readonly subscriber?: string;
}

/**
 * The dimension set of every metric: `service` (the function that writes it, `FUNCTION_NAMES`),
 * `stage`, then the extra ones. The writer and the dashboard both build it here.
 */
export function metricDimensions(
  service: string,
  stage: string,
  extra: ExtraDimensions = {},
): Record<string, string> {
  const dimensions: Record<string, string> = { service, stage };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) dimensions[key] = value;
  return dimensions;
}
