import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '#infra/sandbox/clock.ts';
import { SandboxConflictError, SandboxInputError } from '#infra/sandbox/errors.ts';
import { FINAL_STATUSES, SandboxLinks, type UpstreamCreateParams } from '#infra/sandbox/links.ts';
import { preloadSampleLink, SAMPLE_LINK_ID, SAMPLE_TRACK_DATA } from '#infra/sandbox/sample.ts';
import { formatIst, parseIst } from '#shared/instantpay/ist-time.ts';
import { isFinal } from '#shared/link/link-status.ts';

const START = parseIst('2024-03-01 10:00:00') as number;
const statusesOf = (activity: Array<Record<string, unknown>>) => activity.map((entry) => entry.status);

const created = (overrides: Partial<UpstreamCreateParams> = {}): UpstreamCreateParams => ({
  amount: 250.5,
  contact: { name: 'Asha', mobile: '9123456780', email: 'asha@example.com' },
  alerts: true,
  paymentModes: ['ACCOUNT'],
  ...overrides,
});

describe('ManualClock', () => {
  it('moves only when advanced or set', () => {
    const clock = new ManualClock(1_000);
    clock.advance(500);
    expect(clock.now()).toBe(1_500);
    clock.set(42);
    expect(clock.now()).toBe(42);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});

describe('SandboxLinks scripted timelines', () => {
  let clock: ManualClock;
  let links: SandboxLinks;

  beforeEach(() => {
    clock = new ManualClock(START);
    links = new SandboxLinks({ clock });
  });

  it('answers the status of the last step reached and accumulates the activity of every step reached', () => {
    const linkId = links.createScripted({
      amount: 10,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 5_000, status: 'PROCESSING' },
        { afterMs: 9_000, status: 'CLAIMED' },
      ],
    });

    expect(links.track(linkId)?.status).toBe('ISSUED');
    clock.advance(4_999);
    expect(links.track(linkId)?.status).toBe('ISSUED');
    clock.advance(1);
    const processing = links.track(linkId);
    expect(processing?.status).toBe('PROCESSING');
    expect(statusesOf(processing?.linkActivity ?? [])).toEqual([
      'Payout link created',
      'Payout link notification sent to 9876543210 and beneficiary@example.com',
      'Beneficiary verification successful',
    ]);
    clock.advance(4_000);
    const claimed = links.track(linkId);
    expect(claimed).toMatchObject({ status: 'CLAIMED', amount: 10 });
    expect(claimed?.linkActivity).toHaveLength(4);
    expect(claimed?.linkActivity[3]).toMatchObject({
      status: 'Link Claimed successfully',
      activityAt: formatIst(START + 9_000),
      accountType: 'ACCOUNT',
      accountNumber: expect.stringMatching(/^[1-9]\d{15}$/),
      accountIfsc: expect.any(String),
      orderId: expect.stringMatching(/^1\d{12}[A-Z]{5}$/),
    });
  });

  it('sorts steps by afterMs and keeps the given order for equal times', () => {
    const linkId = links.createScripted({
      amount: 10,
      timeline: [
        { afterMs: 3_000, status: 'CLAIMED' },
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 3_000, status: 'ODD' },
      ],
    });
    clock.advance(3_000);
    expect(links.track(linkId)?.status).toBe('ODD');
  });

  it('defaults activityAt of given entries to the step time and keeps the ones given', () => {
    const linkId = links.createScripted({
      amount: 10,
      timeline: [
        {
          afterMs: 2_000,
          status: 'ISSUED',
          activity: [
            { status: 'custom', extra: 1 },
            { status: 'dated', activityAt: '2020-01-01 00:00:00' },
          ],
        },
      ],
    });
    clock.advance(2_000);
    expect(links.track(linkId)?.linkActivity).toEqual([
      { status: 'custom', activityAt: formatIst(START + 2_000), extra: 1 },
      { status: 'dated', activityAt: '2020-01-01 00:00:00' },
    ]);
  });

  it('does not know a link before its first step', () => {
    const linkId = links.createScripted({ amount: 10, timeline: [{ afterMs: 1_000, status: 'ISSUED' }] });
    expect(links.track(linkId)).toBeUndefined();
    clock.advance(1_000);
    expect(links.track(linkId)?.status).toBe('ISSUED');
  });

  it('allows PROCESSING to go back to ISSUED with a failed verification', () => {
    const linkId = links.createScripted({
      amount: 10,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 1_000, status: 'PROCESSING' },
        { afterMs: 2_000, status: 'ISSUED' },
      ],
    });
    clock.advance(2_000);
    const view = links.track(linkId);
    expect(view?.status).toBe('ISSUED');
    expect(view?.linkActivity.at(-1)).toMatchObject({ status: 'Beneficiary verification failed' });
  });

  it('keeps an unknown status as it is, with a generic activity entry', () => {
    const linkId = links.createScripted({
      amount: 10,
      timeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 1_000, status: 'ON_HOLD' },
      ],
    });
    clock.advance(1_000);
    const view = links.track(linkId);
    expect(view?.status).toBe('ON_HOLD');
    expect(view?.linkActivity.at(-1)).toEqual({
      status: 'Status changed to ON_HOLD',
      activityAt: formatIst(START + 1_000),
    });
  });

  it('rejects invalid input and taken ids', () => {
    expect(() => links.createScripted({ amount: 10, timeline: [] })).toThrow(SandboxInputError);
    expect(() => links.createScripted({ amount: -1, timeline: [{ afterMs: 0, status: 'ISSUED' }] })).toThrow(
      SandboxInputError,
    );
    expect(() => links.createScripted({ amount: 1, timeline: [{ afterMs: 0.5, status: 'ISSUED' }] })).toThrow(
      SandboxInputError,
    );
    expect(() =>
      links.createScripted({ linkId: 'a/b', amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] }),
    ).toThrow(SandboxInputError);
    links.createScripted({ linkId: 'taken', amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    expect(() =>
      links.createScripted({ linkId: 'taken', amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] }),
    ).toThrow(SandboxConflictError);
  });

  it('generates 24 lowercase hex ids when none is given', () => {
    expect(links.createScripted({ amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] })).toMatch(
      /^[0-9a-f]{24}$/,
    );
  });
});

describe('SandboxLinks final statuses', () => {
  it("are the ones the tracker treats as final: the stand-in's copy of InstantPay's rule agrees with the core", () => {
    const statuses = ['ISSUED', 'PROCESSING', 'CLAIMED', 'CANCELLED', 'EXPIRED', 'FAILED', 'claimed', ''];
    expect(statuses.filter((status) => FINAL_STATUSES.has(status))).toEqual(statuses.filter(isFinal));
  });
});

describe('SandboxLinks cancel and notify', () => {
  let clock: ManualClock;
  let links: SandboxLinks;
  const timeline = [
    { afterMs: 0, status: 'ISSUED' },
    { afterMs: 10_000, status: 'PROCESSING' },
    { afterMs: 20_000, status: 'CLAIMED' },
  ];

  beforeEach(() => {
    clock = new ManualClock(START);
    links = new SandboxLinks({ clock });
  });

  it('cancels an ISSUED link for good: later steps never happen', () => {
    const linkId = links.createScripted({ amount: 1, timeline });
    clock.advance(3_000);
    expect(links.cancel(linkId)).toEqual({ ok: true });
    clock.advance(60_000);
    const view = links.track(linkId);
    expect(view?.status).toBe('CANCELLED');
    expect(view?.linkActivity.at(-1)).toEqual({
      status: 'Payout link cancelled',
      activityAt: formatIst(START + 3_000),
    });
    expect(statusesOf(view?.linkActivity ?? [])).not.toContain('Beneficiary verification successful');
  });

  it('refuses to cancel a link that is no longer ISSUED, or an unknown one', () => {
    const linkId = links.createScripted({ amount: 1, timeline });
    clock.advance(10_000);
    expect(links.cancel(linkId)).toEqual({
      ok: false,
      unknownLink: false,
      reason: 'Link cannot be cancelled in status PROCESSING',
    });
    expect(links.cancel('nope')).toEqual({ ok: false, unknownLink: true, reason: 'Invalid link id' });
  });

  it('adds a notification entry when notified, and refuses a final link', () => {
    const linkId = links.createScripted({ amount: 1, timeline });
    clock.advance(1_000);
    expect(links.notify(linkId)).toEqual({
      ok: true,
      message: 'Notification Link Sent To *******210 and ***********@example.com',
    });
    expect(links.track(linkId)?.linkActivity.at(-1)).toEqual({
      status: 'Payout link notification sent to 9876543210 and beneficiary@example.com',
      activityAt: formatIst(START + 1_000),
    });
    clock.advance(20_000);
    expect(links.notify(linkId).ok).toBe(false);
  });
});

describe('SandboxLinks links created through the upstream API', () => {
  let clock: ManualClock;
  let links: SandboxLinks;

  beforeEach(() => {
    clock = new ManualClock(START);
    links = new SandboxLinks({ clock, linkUrlBase: () => 'http://sandbox.test' });
  });

  it('follows the default timeline: ISSUED, PROCESSING after 60 s, CLAIMED after 90 s', () => {
    const data = links.createFromUpstream(created());
    const linkId = data.linkId as string;
    expect(data).toMatchObject({
      linkId: expect.stringMatching(/^[0-9a-f]{24}$/),
      status: 'ISSUED',
      amount: 250.5,
      url: `http://sandbox.test/payout-link/${linkId}`,
      activatedAt: formatIst(START),
      expiredAt: formatIst(START + 24 * 3_600_000),
    });
    expect(links.track(linkId)?.linkActivity).toEqual([
      { status: 'Payout link created', activityAt: formatIst(START) },
      {
        status: 'Payout link notification sent to 9123456780 and asha@example.com',
        activityAt: formatIst(START),
      },
    ]);
    clock.advance(60_000);
    expect(links.track(linkId)?.status).toBe('PROCESSING');
    clock.advance(30_000);
    const claimed = links.track(linkId);
    expect(claimed?.status).toBe('CLAIMED');
    expect(claimed?.linkActivity[2]?.accountNumber).toBe(claimed?.linkActivity[3]?.accountNumber);
  });

  it('expires a link that is not final when the clock passes expiredAt, and no later step happens', () => {
    const linkId = links.createFromUpstream(created({ expiresAt: START + 30_000 })).linkId as string;
    clock.advance(29_999);
    expect(links.track(linkId)?.status).toBe('ISSUED');
    clock.advance(1);
    expect(links.track(linkId)?.status).toBe('EXPIRED');
    clock.advance(120_000);
    const view = links.track(linkId);
    expect(view?.status).toBe('EXPIRED');
    expect(view?.linkActivity.at(-1)).toEqual({
      status: 'Payout link expired',
      activityAt: formatIst(START + 30_000),
    });
    expect(statusesOf(view?.linkActivity ?? [])).not.toContain('Link Claimed successfully');
  });

  it('expires a link caught in PROCESSING', () => {
    const linkId = links.createFromUpstream(created({ expiresAt: START + 70_000 })).linkId as string;
    clock.advance(100_000);
    expect(links.track(linkId)?.status).toBe('EXPIRED');
  });

  it('leaves a link claimed before expiredAt claimed', () => {
    const linkId = links.createFromUpstream(created({ expiresAt: START + 100_000 })).linkId as string;
    clock.advance(200_000);
    const view = links.track(linkId);
    expect(view?.status).toBe('CLAIMED');
    expect(statusesOf(view?.linkActivity ?? [])).not.toContain('Payout link expired');
  });

  it('expires 24 hours after creation by default', () => {
    const linkId = links.createFromUpstream(created()).linkId as string;
    links.cancel(linkId); // final before expiry: stays cancelled
    const other = links.createFromUpstream(created()).linkId as string;
    clock.advance(24 * 3_600_000);
    expect(links.track(linkId)?.status).toBe('CANCELLED');
    expect(links.track(other)?.status).toBe('CLAIMED');
  });

  it('skips the notification entry when alerts are off or no contact is known', () => {
    const quiet = links.createFromUpstream(created({ alerts: false })).linkId as string;
    const anonymous = links.createFromUpstream(created({ contact: undefined })).linkId as string;
    expect(statusesOf(links.track(quiet)?.linkActivity ?? [])).toEqual(['Payout link created']);
    expect(statusesOf(links.track(anonymous)?.linkActivity ?? [])).toEqual(['Payout link created']);
  });

  it('uses a configured default timeline', () => {
    const custom = new SandboxLinks({
      clock,
      defaultTimeline: [
        { afterMs: 0, status: 'ISSUED' },
        { afterMs: 1_000, status: 'CANCELLED' },
      ],
    });
    const linkId = custom.createFromUpstream(created()).linkId as string;
    clock.advance(1_000);
    expect(custom.track(linkId)?.status).toBe('CANCELLED');
  });

  it('lists links newest first with filters and pages', () => {
    const first = links.createFromUpstream(created({ referenceNo: 'R1' })).linkId as string;
    clock.advance(1_000);
    const second = links.createFromUpstream(created({ contact: { mobile: '9000000001' } })).linkId as string;
    links.cancel(second);

    const all = links.list({ pageNumber: 1, recordsPerPage: 1 });
    expect(all.meta).toEqual({
      totalPages: 2,
      currentPage: 1,
      totalRecords: 2,
      recordsOnCurrentPage: 1,
      recordFrom: 1,
      recordTo: 1,
    });
    expect(all.records.map((record) => record.linkId)).toEqual([second]);
    expect(links.list({ pageNumber: 2, recordsPerPage: 1 }).records[0]).toEqual({
      amount: 250.5,
      purpose: 'payout',
      description: 'Sandbox scripted link',
      status: 'ISSUED',
      linkId: first,
      contactDetails: { name: 'Asha', mobile: '9123456780', email: 'asha@example.com' },
      referenceNo: 'R1',
      orderId: expect.stringMatching(/^1\d{12}[A-Z]{5}$/),
      url: `http://sandbox.test/payout-link/${first}`,
      qrUrl: `http://sandbox.test/payment/payout/link/qr/${first}`,
      paymentModes: ['ACCOUNT'],
      verifyBene: false,
      activatedAt: formatIst(START),
      expiredAt: formatIst(START + 24 * 3_600_000),
    });
    expect(links.list({ pageNumber: 3, recordsPerPage: 1 })).toEqual({
      meta: {
        totalPages: 2,
        currentPage: 3,
        totalRecords: 2,
        recordsOnCurrentPage: 0,
        recordFrom: 0,
        recordTo: 0,
      },
      records: [],
    });
    expect(links.list({ statuses: ['CANCELLED'], pageNumber: 1, recordsPerPage: 10 }).records).toHaveLength(
      1,
    );
    expect(
      links.list({ statuses: ['ISSUED', 'CANCELLED'], pageNumber: 1, recordsPerPage: 10 }).records,
    ).toHaveLength(2);
    expect(links.list({ contact: '9000000001', pageNumber: 1, recordsPerPage: 10 }).records).toHaveLength(1);
    expect(links.list({ linkId: first, pageNumber: 1, recordsPerPage: 10 }).meta.totalRecords).toBe(1);
  });
});

describe('sample link', () => {
  it('shows exactly the sample data whatever the clock says, and survives reset', () => {
    const links = new SandboxLinks({ clock: new ManualClock(0) });
    preloadSampleLink(links);
    links.reset();
    expect(links.track(SAMPLE_LINK_ID)).toEqual(SAMPLE_TRACK_DATA);
    expect(JSON.stringify(links.track(SAMPLE_LINK_ID))).toContain(
      '"status":"Payout link notification sent to 8430454547 and [email\u00a0protected]"',
    );
    expect(links.cancel(SAMPLE_LINK_ID)).toEqual({
      ok: false,
      unknownLink: false,
      reason: 'Link cannot be cancelled in status CLAIMED',
    });
  });

  it('gives a scripted link the documented Create fields, its referenceNo, and an expiry 30 days out', () => {
    const links = new SandboxLinks({ clock: new ManualClock(START) });
    const linkId = links.createScripted({
      amount: 5,
      referenceNo: 'INV-7',
      timeline: [{ afterMs: 0, status: 'ISSUED' }],
    });
    expect(links.list({ linkId, pageNumber: 1, recordsPerPage: 1 }).records[0]).toMatchObject({
      referenceNo: 'INV-7',
      purpose: 'payout',
      verifyBene: false,
      expiredAt: formatIst(START + 30 * 24 * 3_600_000),
    });
    const unnamed = links.createScripted({ amount: 5, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    expect(links.list({ linkId: unnamed, pageNumber: 1, recordsPerPage: 1 }).records[0]?.referenceNo).toBe(
      'NA',
    );
  });

  it('expires a scripted link still ISSUED when its 30 days are up', () => {
    const clock = new ManualClock(START);
    const links = new SandboxLinks({ clock });
    const linkId = links.createScripted({ amount: 5, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    clock.advance(30 * 24 * 3_600_000 - 1);
    expect(links.track(linkId)?.status).toBe('ISSUED');
    clock.advance(1);
    expect(links.track(linkId)?.status).toBe('EXPIRED');
  });

  it('forgets other links on reset', () => {
    const links = new SandboxLinks({ clock: new ManualClock(START) });
    const linkId = links.createScripted({ amount: 1, timeline: [{ afterMs: 0, status: 'ISSUED' }] });
    links.reset();
    expect(links.track(linkId)).toBeUndefined();
  });
});
