import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * docs/SECURITY.md proves each point with tests named `file › describe › test`. A renamed test or a
 * moved file would leave a claim without its proof: every reference must name a file that exists
 * and a test title that file still holds.
 */
const doc = readFileSync('docs/SECURITY.md', 'utf8');

interface Reference {
  file: string;
  title: string;
}

function references(): Reference[] {
  const found: Reference[] = [];
  // A bullet names a file (or a glob of files), then one or more titles, each in backticks.
  for (const match of doc.matchAll(/^- `(test\/[^`]+)` › (.+(?:\n {2}(?!- ).+)*)/gm)) {
    const file = match[1] as string;
    for (const title of (match[2] as string).matchAll(/`([^`]+)`/g)) {
      // A file named in a note, e.g. "(one per file; `abuse.test.ts` › ...)", is not a title.
      if (!(title[1] as string).endsWith('.test.ts')) found.push({ file, title: title[1] as string });
    }
  }
  return found;
}

/** The part of a title that is literal in the source: the last ` › ` segment, up to a placeholder. */
function literal(title: string): string {
  const last = title.split(' › ').at(-1) as string;
  return last.split(/%[sdj]|\.\.\./)[0]?.trim() ?? '';
}

describe('docs/SECURITY.md', () => {
  const all = references();

  it('names tests', () => {
    expect(all.length).toBeGreaterThan(30);
  });

  it.each(all.map((ref) => [ref.file, ref.title] as const))('%s holds "%s"', (file, title) => {
    // `dir/*.test.ts` stands for every test file of the folder, each of which must hold the title.
    const files = file.endsWith('/*.test.ts')
      ? readdirSync(dirname(file))
          .filter((name) => name.endsWith('.test.ts'))
          .map((name) => join(dirname(file), name))
      : [file];
    expect(files.length, `no file ${file}`).toBeGreaterThan(0);
    const text = literal(title);
    for (const path of files) {
      expect(existsSync(path), `no file ${path}`).toBe(true);
      if (text.length >= 3)
        expect(readFileSync(path, 'utf8').includes(text), `${path} has no test titled "${text}"`).toBe(true);
    }
  });
});
