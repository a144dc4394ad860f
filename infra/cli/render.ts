import type { LinkView } from '#shared/link/link-view.ts';
import type { EventsPage } from './api-client.ts';
import { type Column, renderFields, renderTable } from './table.ts';

/** One link, field by field, then its activity. */
export function renderLink(link: LinkView): string {
  const upstream = link.upstream
    ? [
        link.upstream.statuscode,
        link.upstream.ipayUuid && `ipayUuid ${link.upstream.ipayUuid}`,
        link.upstream.environment,
        link.upstream.timestamp && `at ${link.upstream.timestamp}`,
      ]
        .filter(Boolean)
        .join(', ')
    : undefined;
  const fields = renderFields([
    ['linkId', link.linkId],
    [
      'status',
      link.status === null
        ? 'unknown (InstantPay has not answered yet)'
        : `${link.status}${link.final ? ' (final)' : ''}`,
    ],
    ['amount', link.amount],
    ['reference', link.reference],
    ['metadata', link.metadata],
    ['sequence', link.sequence],
    ['checks', link.checks],
    ['firstSeenAt', link.firstSeenAt],
    ['lastCheckedAt', link.lastCheckedAt],
    ['nextCheckAt', link.nextCheckAt ?? 'not watched'],
    ['upstream', upstream],
  ]);
  if (link.activity.length === 0) return fields;
  const activity = renderTable(
    [
      { header: 'activityAt', value: (entry) => entry.activityAt },
      { header: 'status', value: (entry) => entry.status },
      { header: 'orderId', value: (entry) => entry.orderId },
      {
        header: 'account',
        value: (entry) => [entry.accountType, entry.accountNumber].filter(Boolean).join(' '),
      },
      { header: 'ifsc', value: (entry) => entry.accountIfsc },
    ],
    link.activity,
  );
  return `${fields}\nactivity\n${activity}`;
}

export const LINK_COLUMNS: ReadonlyArray<Column<LinkView>> = [
  { header: 'linkId', value: (link) => link.linkId },
  { header: 'status', value: (link) => link.status },
  { header: 'final', value: (link) => (link.final ? 'yes' : 'no') },
  { header: 'amount', value: (link) => link.amount, align: 'right' },
  { header: 'reference', value: (link) => link.reference, maxWidth: 32 },
  { header: 'lastCheckedAt', value: (link) => link.lastCheckedAt },
  { header: 'nextCheckAt', value: (link) => link.nextCheckAt ?? 'not watched' },
];

export function renderEvents(page: EventsPage): string {
  return renderTable(
    [
      { header: '#', value: (event) => event.sequence, align: 'right' },
      {
        header: 'change',
        value: (event) =>
          event.detailType === 'Payout Link Activity Added'
            ? `activity added (${event.status})`
            : `${event.previousStatus ?? '(new)'} -> ${event.status}`,
      },
      { header: 'observedAt', value: (event) => event.observedAt },
      { header: 'trigger', value: (event) => event.trigger },
      { header: 'publishedAt', value: (event) => event.publishedAt ?? 'not yet' },
      { header: 'eventId', value: (event) => event.eventId },
    ],
    page.events,
    `No recorded changes for ${page.linkId}.`,
  );
}
