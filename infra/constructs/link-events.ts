import { Duration } from 'aws-cdk-lib';
import { Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import type { StageConfig } from '#infra/config/stage-config.ts';
import { busName } from '#shared/events/bus.ts';
import { EVENT_SOURCE } from '#shared/link/link-event.ts';

/** The stage's bus (`payout-link-tracker-<stage>`) and an archive of everything the tracker publishes, for replay. */
export class LinkEvents extends Construct {
  readonly bus: EventBus;
  readonly archive: Archive;

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
  }
}
