import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  failedRowsCsv,
  ImportFileError,
  parseCsv,
  readImportFile,
  rowsFromCsv,
  rowsFromJson,
  toCsv,
  validateRow,
} from '#infra/cli/import-file.ts';

const fields = (text: string) => parseCsv(text).map((record) => record.fields);

describe('the CSV parser', () => {
  it('splits plain fields and records, LF or CRLF, with or without a final line break', () => {
    expect(fields('a,b,c\n1,2,3\n')).toEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ]);
    expect(fields('a,b\r\n1,2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(fields('a\r1\r')).toEqual([['a'], ['1']]);
  });

  it('keeps commas, quotes and line breaks inside quoted fields', () => {
    expect(fields('id,ref\r\n"x","a, b"\r\n"y","say ""hi"""\r\n"z","two\r\nlines"\r\n')).toEqual([
      ['id', 'ref'],
      ['x', 'a, b'],
      ['y', 'say "hi"'],
      ['z', 'two\r\nlines'],
    ]);
  });

  it('keeps empty fields, including a trailing one and an empty quoted one', () => {
    expect(fields('a,,c,\n"",x,"",\n')).toEqual([
      ['a', '', 'c', ''],
      ['', 'x', '', ''],
    ]);
  });

  it('skips blank lines, whitespace-only lines and a BOM, and numbers records by their first line', () => {
    const records = parseCsv('\uFEFFid\n\n  \r\n"multi\nline"\n\nlast\n');
    expect(records).toEqual([
      { line: 1, fields: ['id'] },
      { line: 4, fields: ['multi\nline'] },
      { line: 7, fields: ['last'] },
    ]);
  });

  it('takes a quote inside an unquoted field literally', () => {
    expect(fields('5" screen,x\n')).toEqual([['5" screen', 'x']]);
  });

  it('names the line of a quote never closed, or text after a closing quote', () => {
    expect(() => parseCsv('a\n"open,b\nc\n')).toThrow(
      new ImportFileError('line 2: a quoted field is never closed.'),
    );
    expect(() => parseCsv('a\n"x"y,b\n')).toThrow(/line 2: unexpected "y" after a closing quote/);
  });

  it('reads back whatever toCsv writes', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', '₹', 'é') });
    fc.assert(
      fc.property(fc.array(fc.array(field, { minLength: 2, maxLength: 4 }), { maxLength: 5 }), (rows) => {
        expect(fields(toCsv(rows))).toEqual(rows);
      }),
    );
  });
});

describe('import rows', () => {
  it('finds the columns by name in any order and case, ignoring others', () => {
    const rows = rowsFromCsv('Reference,note,EXPIRES_AT,link_id\nr1,hello,2026-12-31T00:00:00Z,l1\n,,,l2\n');
    expect(rows).toEqual([
      { row: 2, linkId: 'l1', expiresAt: '2026-12-31T00:00:00Z', reference: 'r1' },
      { row: 3, linkId: 'l2', expiresAt: '', reference: '' },
    ]);
  });

  it('needs a linkId column, once', () => {
    expect(() => rowsFromCsv('id,reference\nl1,r\n')).toThrow(/header with a linkId column/);
    expect(() => rowsFromCsv('linkId,LinkId\nl1,l2\n')).toThrow(/linkId twice/);
    expect(rowsFromCsv('')).toEqual([]);
  });

  it('marks a row with more fields than the header', () => {
    expect(rowsFromCsv('linkId\nl1,extra\n')[0]).toMatchObject({
      linkId: 'l1',
      problem: 'the row has 2 fields, the header 1',
    });
  });

  it('reads JSON arrays and {"links": [...]}, numbering items from 1', () => {
    expect(rowsFromJson('[{"linkId":"l1","reference":"r","other":1}, 5]')).toEqual([
      { row: 1, linkId: 'l1', reference: 'r', expiresAt: undefined, metadata: undefined },
      { row: 2, linkId: undefined, problem: 'the item is not an object' },
    ]);
    expect(rowsFromJson('{"links":[{"linkId":"l1"}]}')).toHaveLength(1);
    expect(() => rowsFromJson('{"linkId":"l1"}')).toThrow(/array of links/);
    expect(() => rowsFromJson('[')).toThrow(/not valid JSON/);
  });

  it('reads a file by its extension, or by its first character', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-import-'));
    await writeFile(join(dir, 'a.csv'), 'linkId\nl1\n');
    await writeFile(join(dir, 'b.json'), '[{"linkId":"l2"}]');
    await writeFile(join(dir, 'c.txt'), '  [{"linkId":"l3"}]');
    expect(await readImportFile(join(dir, 'a.csv'))).toMatchObject({
      format: 'csv',
      rows: [{ linkId: 'l1' }],
    });
    expect(await readImportFile(join(dir, 'b.json'))).toMatchObject({
      format: 'json',
      rows: [{ linkId: 'l2' }],
    });
    expect(await readImportFile(join(dir, 'c.txt'))).toMatchObject({
      format: 'json',
      rows: [{ linkId: 'l3' }],
    });
    await expect(readImportFile(join(dir, 'missing.csv'))).rejects.toThrow(/No file .*missing\.csv/);
  });
});

describe('row validation (the API request schema)', () => {
  it('accepts a valid row, dropping empty optional cells', () => {
    expect(validateRow({ row: 2, linkId: 'link_1-A', expiresAt: '', reference: '' })).toEqual({
      ok: true,
      body: { linkId: 'link_1-A' },
    });
    expect(
      validateRow({ row: 2, linkId: 'l1', expiresAt: '2026-12-31T18:30:00+05:30', reference: 'invoice 7' }),
    ).toEqual({
      ok: true,
      body: { linkId: 'l1', expiresAt: '2026-12-31T18:30:00+05:30', reference: 'invoice 7' },
    });
  });

  it.each([
    [{ linkId: '' }, 'linkId: required'],
    [{ linkId: 'has space' }, 'linkId: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -'],
    [{ linkId: 'x'.repeat(65) }, 'linkId: must be 1 to 64 characters of A-Z, a-z, 0-9, _ or -'],
    [{ linkId: 7 }, 'linkId: Invalid input: expected string, received number'],
    [
      { linkId: 'l1', expiresAt: '2026-12-31' },
      'expiresAt: must be an ISO 8601 date-time with Z or an offset',
    ],
    [{ linkId: 'l1', expiresAt: 'tomorrow' }, 'expiresAt: must be an ISO 8601 date-time with Z or an offset'],
    [{ linkId: 'l1', reference: 'r'.repeat(129) }, 'reference: Too big'],
  ])('refuses %j', (fields, message) => {
    const check = validateRow({ row: 3, ...fields });
    expect(check.ok).toBe(false);
    expect(!check.ok && check.error).toContain(message);
  });

  it('reports a reading problem as the row error', () => {
    expect(validateRow({ row: 4, linkId: 'l1', problem: 'the row has 2 fields, the header 1' })).toEqual({
      ok: false,
      error: 'the row has 2 fields, the header 1',
    });
  });

  it('writes failed rows as CSV that can be imported again', () => {
    const csv = failedRowsCsv([
      { row: { row: 3, linkId: 'bad id', expiresAt: '', reference: 'a, "b"' }, error: 'linkId: invalid' },
    ]);
    expect(csv).toBe('row,linkId,expiresAt,reference,error\r\n3,bad id,,"a, ""b""",linkId: invalid\r\n');
    expect(rowsFromCsv(csv)).toEqual([{ row: 2, linkId: 'bad id', expiresAt: '', reference: 'a, "b"' }]);
  });
});
