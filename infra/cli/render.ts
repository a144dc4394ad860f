import type { LinkView } from '#shared/link/link-view.ts';
import type { LinkDeliveries, SubscriberView } from '#shared/webhooks/delivery-admin.ts';
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

type Delivery = LinkDeliveries['deliveries'][number];

/** An attempt in a few words: `failed HTTP 503`, `failed timeout`, `delivered HTTP 200`. */
function attemptSummary(attempt: Delivery['attempts'][number] | undefined): string | undefined {
  if (!attempt) return undefined;
  const why = attempt.httpStatus !== undefined ? `HTTP ${attempt.httpStatus}` : attempt.error;
  return `${attempt.outcome}${why ? ` ${why}` : ''} at ${attempt.at}`;
}

/** One line per delivery (event and subscriber): its state, attempts, the last one and the next. */
export function renderDeliveries(answer: LinkDeliveries): string {
  return renderTable<Delivery>(
    [
      { header: '#', value: (delivery) => delivery.sequence, align: 'right' },
      { header: 'type', value: (delivery) => delivery.type },
      { header: 'subscriber', value: (delivery) => delivery.subscriber },
      { header: 'state', value: (delivery) => delivery.state },
      { header: 'attempts', value: (delivery) => delivery.attempts.length, align: 'right' },
      { header: 'last attempt', value: (delivery) => attemptSummary(delivery.attempts.at(-1)) },
      { header: 'next attempt', value: (delivery) => delivery.attempts.at(-1)?.nextAttemptAt },
      { header: 'eventId', value: (delivery) => delivery.eventId },
    ],
    answer.deliveries,
    `No webhook deliveries recorded for ${answer.linkId} (attempts are kept 30 days).`,
  );
}

function enabledText(subscriber: SubscriberView): string {
  if (subscriber.enabled) return 'yes';
  return `no, since ${subscriber.disabledAt ?? 'an unknown time'} (${subscriber.disabledReason ?? 'no reason recorded'})`;
}

export const SUBSCRIBER_COLUMNS: ReadonlyArray<Column<SubscriberView>> = [
  { header: 'name', value: (subscriber) => subscriber.name },
  { header: 'enabled', value: enabledText },
  { header: 'lastDeliveredAt', value: (subscriber) => subscriber.lastDeliveredAt },
  { header: 'lastFailedAt', value: (subscriber) => subscriber.lastFailedAt },
  { header: 'failures', value: (subscriber) => subscriber.consecutiveFailures, align: 'right' },
  { header: 'deadLetters', value: (subscriber) => subscriber.deadLetters, align: 'right' },
  { header: 'url', value: (subscriber) => subscriber.url, maxWidth: 60 },
];

/** One subscriber, field by field. */
export function renderSubscriber(subscriber: SubscriberView): string {
  return renderFields([
    ['name', subscriber.name],
    ['url', subscriber.url],
    ['enabled', enabledText(subscriber)],
    ['lastDeliveredAt', subscriber.lastDeliveredAt],
    ['lastFailedAt', subscriber.lastFailedAt],
    ['consecutiveFailures', subscriber.consecutiveFailures],
    ['deadLetters', subscriber.deadLetters],
  ]);
}
