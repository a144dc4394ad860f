/**
 * Metrics as CloudWatch Embedded Metric Format (EMF) log lines, written straight to stdout: what
 * Powertools Metrics and its middleware do, without their 12 KB and their cold-start cost, for
 * functions that publish a handful of figures at a time (`recheck-pending` once per run,
 * `deliver-webhooks` once per delivery). The lines are the ones Powertools writes: the namespace,
 * one dimension set `[service, stage, ...]`, the values.
 */

import {
  type ExtraDimensions,
  METRICS_NAMESPACE,
  type MetricName,
  type MetricUnit,
  metricDimensions,
} from './metric-names.ts';

export interface EmfMetric {
  name: MetricName;
  unit: MetricUnit;
  /** One value, or several (an EMF metric takes an array: CloudWatch aggregates each value). */
  values: readonly number[];
}

/** CloudWatch reads at most 100 values of one metric per EMF document. */
const MAX_VALUES_PER_DOCUMENT = 100;

export interface EmfWriter {
  /**
   * Writes the metrics as EMF lines: one line, more only when a metric has over 100 values. Every
   * metric of the call carries `service`, `stage` and the given `dimensions` (one dimension set).
   */
  publish(metrics: readonly EmfMetric[], dimensions?: ExtraDimensions): void;
}

const TRUTHY = new Set(['1', 'y', 'yes', 't', 'true', 'on']);
const truthy = (value: string | undefined) => value !== undefined && TRUTHY.has(value.toLowerCase());

/**
 * Off as Powertools is off: `POWERTOOLS_METRICS_DISABLED` when set (the local cloud sets it), else
 * `POWERTOOLS_DEV`.
 */
function metricsDisabled(env: Record<string, string | undefined>): boolean {
  const disabled = env.POWERTOOLS_METRICS_DISABLED;
  return disabled !== undefined ? truthy(disabled) : truthy(env.POWERTOOLS_DEV);
}

/** The EMF documents for these metrics, `[service, stage, ...dimensions]` as the one dimension set. */
function emfDocuments(
  options: {
    namespace: string;
    service: string;
    stage: string;
    timestamp: number;
    dimensions?: ExtraDimensions;
  },
  metrics: readonly EmfMetric[],
): Array<Record<string, unknown>> {
  const dimensions = metricDimensions(options.service, options.stage, options.dimensions);
  const present = metrics.filter((metric) => metric.values.length > 0);
  const documents: Array<Record<string, unknown>> = [];
  for (
    let offset = 0;
    present.some((metric) => metric.values.length > offset);
    offset += MAX_VALUES_PER_DOCUMENT
  ) {
    const chunk = present
      .filter((metric) => metric.values.length > offset)
      .map((metric) => ({
        ...metric,
        values: metric.values.slice(offset, offset + MAX_VALUES_PER_DOCUMENT),
      }));
    const document: Record<string, unknown> = {
      _aws: {
        Timestamp: options.timestamp,
        CloudWatchMetrics: [
          {
            Namespace: options.namespace,
            Dimensions: [Object.keys(dimensions)],
            Metrics: chunk.map(({ name, unit }) => ({ Name: name, Unit: unit })),
          },
        ],
      },
      ...dimensions,
    };
    for (const { name, values } of chunk) document[name] = values.length === 1 ? values[0] : values;
    documents.push(document);
  }
  return documents;
}

/**
 * One writer per function, built at cold start: the namespace and service come from
 * `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_SERVICE_NAME` as the construct sets them.
 */
export function createEmfWriter(
  serviceName: string,
  stage: string,
  options: {
    env?: Record<string, string | undefined>;
    write?: (line: string) => void;
    now?: () => number;
  } = {},
): EmfWriter {
  const env = options.env ?? process.env;
  const namespace = env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE;
  const service = env.POWERTOOLS_SERVICE_NAME ?? serviceName;
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const now = options.now ?? Date.now;
  const disabled = metricsDisabled(env);
  return {
    publish(metrics, dimensions) {
      if (disabled) return;
      const options = { namespace, service, stage, timestamp: now(), ...(dimensions ? { dimensions } : {}) };
      for (const document of emfDocuments(options, metrics)) {
        write(`${JSON.stringify(document)}\n`);
      }
    },
  };
}
