import { describe, expect, it } from 'vitest';
import { createEmfWriter, type EmfMetric } from '#shared/observability/emf.ts';

function written(metrics: EmfMetric[], env: Record<string, string | undefined> = {}) {
  const lines: string[] = [];
  createEmfWriter('recheck-pending', 'prod', {
    env,
    write: (line) => lines.push(line),
    now: () => 1_700_000_000_000,
  }).publish(metrics);
  return lines;
}

describe('the EMF writer', () => {
  it('writes the metrics as one EMF line with the service and stage dimensions', () => {
    const lines = written([
      { name: 'LinksChecked', unit: 'Count', values: [3] },
      { name: 'OldestDueAgeSeconds', unit: 'Seconds', values: [12.5] },
      { name: 'DetectionDelaySeconds', unit: 'Seconds', values: [] },
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'PayoutLinkTracker',
            Dimensions: [['service', 'stage']],
            Metrics: [
              { Name: 'LinksChecked', Unit: 'Count' },
              { Name: 'OldestDueAgeSeconds', Unit: 'Seconds' },
            ],
          },
        ],
      },
      service: 'recheck-pending',
      stage: 'prod',
      LinksChecked: 3,
      OldestDueAgeSeconds: 12.5,
    });
  });

  it('adds the dimensions of the call to the dimension set and the document', () => {
    const lines: string[] = [];
    createEmfWriter('deliver-webhooks', 'prod', { env: {}, write: (line) => lines.push(line) }).publish(
      [
        { name: 'WebhookLatencyMs', unit: 'Milliseconds', values: [12] },
        { name: 'WebhookDelivered', unit: 'Count', values: [1] },
      ],
      { subscriber: 'merchant-ledger' },
    );
    expect(lines).toHaveLength(1);
    const document = JSON.parse(lines[0]!);
    expect(document._aws.CloudWatchMetrics[0].Dimensions).toEqual([['service', 'stage', 'subscriber']]);
    expect(document).toMatchObject({
      service: 'deliver-webhooks',
      stage: 'prod',
      subscriber: 'merchant-ledger',
      WebhookLatencyMs: 12,
      WebhookDelivered: 1,
    });
  });

  it('takes the namespace and service from the environment the construct sets', () => {
    const [line] = written([{ name: 'LinksChecked', unit: 'Count', values: [1] }], {
      POWERTOOLS_METRICS_NAMESPACE: 'Other',
      POWERTOOLS_SERVICE_NAME: 'recheck-b',
    });
    const document = JSON.parse(line!);
    expect(document._aws.CloudWatchMetrics[0].Namespace).toBe('Other');
    expect(document.service).toBe('recheck-b');
  });

  it('spreads a metric of more than 100 values over several lines, CloudWatch taking 100 per line', () => {
    const delays = Array.from({ length: 250 }, (_, i) => i);
    const lines = written([
      { name: 'LinksChecked', unit: 'Count', values: [250] },
      { name: 'DetectionDelaySeconds', unit: 'Seconds', values: delays },
    ]).map((line) => JSON.parse(line));
    expect(lines.map((document) => document.DetectionDelaySeconds?.length)).toEqual([100, 100, 50]);
    expect(lines.flatMap((document) => document.DetectionDelaySeconds)).toEqual(delays);
    expect(lines.filter((document) => 'LinksChecked' in document)).toHaveLength(1);
  });

  it('writes nothing when metrics are disabled, as Powertools does', () => {
    const metric: EmfMetric = { name: 'LinksChecked', unit: 'Count', values: [1] };
    expect(written([metric], { POWERTOOLS_METRICS_DISABLED: 'true' })).toEqual([]);
    expect(written([metric], { POWERTOOLS_DEV: 'true' })).toEqual([]);
    expect(written([metric], { POWERTOOLS_DEV: 'true', POWERTOOLS_METRICS_DISABLED: 'false' })).toHaveLength(
      1,
    );
  });
});
