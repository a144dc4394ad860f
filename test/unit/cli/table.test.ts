import { describe, expect, it } from 'vitest';
import { cell, renderFields, renderTable } from '#infra/cli/table.ts';

describe('tables', () => {
  const rows = [
    { id: 'a', status: 'ISSUED', amount: 5 },
    { id: 'link-long', status: null, amount: 12345 },
  ];
  const columns = [
    { header: 'linkId', value: (row: (typeof rows)[number]) => row.id },
    { header: 'status', value: (row: (typeof rows)[number]) => row.status },
    { header: 'amount', value: (row: (typeof rows)[number]) => row.amount, align: 'right' as const },
  ];

  it('pads columns to the widest cell, right-aligns numbers, and shows nothing as -', () => {
    expect(renderTable(columns, rows)).toBe(
      [
        'linkId     status  amount',
        '---------  ------  ------',
        'a          ISSUED       5',
        'link-long  -        12345',
        '',
      ].join('\n'),
    );
  });

  it('says so when there are no rows', () => {
    expect(renderTable(columns, [], 'No links.')).toBe('No links.\n');
  });

  it('cuts long values with an ellipsis and keeps each row on one line', () => {
    const table = renderTable(
      [{ header: 'ref', value: (row: { ref: string }) => row.ref, maxWidth: 8 }],
      [{ ref: 'a very long reference' }, { ref: 'two\nline' }],
    );
    expect(table.split('\n')).toEqual(['ref', '--------', 'a very …', 'two line', '']);
  });

  it('counts characters, not bytes, when padding', () => {
    const table = renderTable([{ header: 'x', value: (row: string) => row }], ['₹500', 'ab']);
    expect(table.split('\n')[2]).toBe('₹500');
    expect(table.split('\n')[1]).toBe('----');
  });

  it('renders fields with aligned labels, leaving out undefined ones', () => {
    expect(
      renderFields([
        ['linkId', 'l1'],
        ['reference', undefined],
        ['nextCheckAt', null],
        ['final', true],
      ]),
    ).toBe('linkId       l1\nnextCheckAt  -\nfinal        true\n');
  });

  it('escapes control characters (C0, DEL, C1, bidi) in cells, counting the escape when padding', () => {
    const table = renderTable(
      [
        { header: 'ref', value: (row: { ref: string }) => row.ref },
        { header: 'n', value: () => 1 },
      ],
      [{ ref: 'a\x1b[2Jb\x7f\x9b1m\u202ec' }, { ref: 'plain' }],
    );
    expect(table.split('\n')).toEqual([
      'ref                         n',
      '--------------------------  -',
      'a\\x1b[2Jb\\x7f\\x9b1m\\u202ec  1',
      'plain                       1',
      '',
    ]);
    expect(cell({ note: '\x9d0;x\u2066' })).toBe('{"note":"\\x9d0;x\\u2066"}');
  });

  it('shows objects as JSON', () => {
    expect(cell({ a: '1' })).toBe('{"a":"1"}');
    expect(cell('')).toBe('-');
    expect(cell(0)).toBe('0');
  });
});
