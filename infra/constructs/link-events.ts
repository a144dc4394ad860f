import { Duration } from 'aws-cdk-lib';
import { Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { CfnRegistry, CfnSchema } from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { registrySchemas } from '#infra/schemas/published-schemas.ts';
import { EVENT_SOURCE } from '#shared/link/link-event.ts';
import { busName } from '#shared/resource-names.ts';

/** The stage's bus (`payout-link-tracker-<stage>`) and an archive of everything the tracker publishes, for replay. */
export class LinkEvents extends Construct {
  readonly bus: EventBus;
  readonly archive: Archive;
  readonly registry: CfnRegistry;

  constructor(scope: Construct, id: string, props: { config: StageConfig }) {
    super(scope, id);
    const { config } = props;
    this.bus = new EventBus(this, 'Bus', {
      eventBusName: busName(config.stage),
      description: `Payout link changes of ${config.stage}`,
    });
    this.archive = new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      archiveName: busName(config.stage),
      description: `Every payout link event of ${config.stage}, for replay`,
      eventPattern: { source: [EVENT_SOURCE] },
      retention: Duration.days(config.archiveRetentionDays),
    });
    // The event contracts in a schema registry, so consumers can download code bindings.
    this.registry = new CfnRegistry(this, 'Schemas', {
      registryName: busName(config.stage),
      description: `Events published by the payout link tracker (${config.stage})`,
    });
    for (const schema of registrySchemas()) {
      new CfnSchema(this, `Schema${schema.detailType.replaceAll(' ', '')}`, {
        registryName: this.registry.attrRegistryName,
        schemaName: schema.name,
        type: 'JSONSchemaDraft4',
        content: schema.content,
        description: `detail-type "${schema.detailType}", source "${EVENT_SOURCE}"`,
      });
    }
  }
}
