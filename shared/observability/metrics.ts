import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from './emf.ts';

export { METRICS_NAMESPACE };

/** One Powertools metrics instance per function, every figure carrying the stage as a dimension. */
export function createMetrics(serviceName: string, stage: string): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? serviceName,
    defaultDimensions: { stage },
  });
}
