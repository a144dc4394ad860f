// `npm run lint` runs this: every import between the repository's folders must follow BOUNDARIES (the
// README's "Import boundaries"), and what the shipped code imports at run time must be a `dependency`.
// Imports are read from each source file and resolved (`#shared/...` through the package's `imports`
// map, `../..` relative to the file), so both spellings of an import are held to the same rule.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The modules of a function that code outside it may import: its Lambda entry and its factory. */
const FUNCTION_PUBLIC = ['functions/*/handler.ts', 'functions/*/wiring.ts', 'functions/*/app.ts'];
const NOT_TESTS = ['shared', 'functions/*', 'infra', 'infra/*'];

/**
 * Which folders each folder may import (besides npm packages and Node's built-ins). A folder is
 * `shared`, `functions/<name>`, `infra` (app.ts, stack.ts), `infra/<sub>`, `test/<tier>`, `tools`, or
 * `root` (the repository's top-level files); an entry is a folder, a file, or either with `*` for
 * one path segment. A folder may always import its own files; nothing outside `test/` imports `test/`.
 */
export const BOUNDARIES: Readonly<Record<string, readonly string[]>> = {
  shared: ['shared'],
  'functions/*': ['shared'],
  'infra/config': ['shared'],
  'infra/sandbox': ['shared'],
  'infra/ops': ['shared', 'infra/config'],
  'infra/schemas': ['shared'],
  'infra/constructs': ['shared', 'infra/config', 'infra/schemas'],
  infra: ['shared', 'infra/config', 'infra/constructs'],
  'infra/cli': ['shared', 'infra/config', 'infra/ops'],
  'infra/local': ['shared', 'infra/config', 'infra/sandbox', 'infra/schemas', ...FUNCTION_PUBLIC],
  'test/support': NOT_TESTS,
  'test/*': [...NOT_TESTS, 'test/support', 'tools'],
  tools: [],
  root: [],
};

/** The code that runs from `dependencies` alone: the functions' bundles and the package's `bin`. */
export const SHIPPED_ENTRIES = [
  'functions/*/handler.ts',
  'infra/constructs/webhook-secret-seed/handler.ts',
  'infra/cli/bin.mjs',
];

const SOURCE = /\.(?:[cm]?[jt]s|tsx)$/;

export type ImportKind = 'static' | 'dynamic' | 'mock';

export interface ImportRef {
  specifier: string;
  line: number;
  kind: ImportKind;
  /** Erased at compile time (`import type`, `export type`, `typeof import(...)`). */
  typeOnly: boolean;
}

export interface Violation {
  file: string;
  line: number;
  message: string;
}

/**
 * The imports of one module, read from its code only: comments, template literals and regular
 * expressions are blanked and string literals replaced by their index, so text that merely
 * mentions an import is never taken for one.
 */
export function scanImports(source: string): ImportRef[] {
  const { code, strings } = maskSource(source);
  const found: Array<ImportRef & { at: number }> = [];
  const lineAt = (offset: number) => code.slice(0, offset).split('\n').length;
  const add = (at: number, index: string, kind: ImportKind, typeOnly: boolean) => {
    found.push({ at, specifier: strings[Number(index)] ?? '', line: lineAt(at), kind, typeOnly });
  };
  const before = String.raw`(?<![\w$.])`;
  const clause = String.raw`(?:(?!\b(?:import|export)\b)[^;'\x60])*?`;
  for (const m of code.matchAll(
    new RegExp(`${before}(import|export)(\\s+type\\b)?${clause}\\bfrom\\s*'(\\d+)'`, 'g'),
  )) {
    add(m.index, m[3]!, 'static', m[2] !== undefined);
  }
  for (const m of code.matchAll(new RegExp(`${before}import\\s*'(\\d+)'`, 'g')))
    add(m.index, m[1]!, 'static', false);
  for (const m of code.matchAll(new RegExp(`(\\btypeof\\s+)?${before}import\\s*\\(\\s*'(\\d+)'`, 'g'))) {
    add(m.index, m[2]!, 'dynamic', m[1] !== undefined);
  }
  for (const m of code.matchAll(new RegExp(`${before}require\\s*\\(\\s*'(\\d+)'`, 'g'))) {
    add(m.index, m[1]!, 'dynamic', false);
  }
  for (const m of code.matchAll(/\bvi\.(?:mock|doMock|unmock|importActual|importMock)\s*\(\s*'(\d+)'/g)) {
    add(m.index, m[1]!, 'mock', true);
  }
  return found.sort((a, b) => a.at - b.at).map(({ at: _at, ...ref }) => ref);
}

const REGEX_PRECEDERS = new Set('(,=:[!&|?{};+-*%<>~^'.split(''));
const REGEX_KEYWORDS = /\b(?:return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/;

/** Blanks comments, template literals and regular expressions, and numbers the string literals. */
function maskSource(source: string): { code: string; strings: string[] } {
  const strings: string[] = [];
  let code = '';
  const braces: Array<'code' | 'template'> = [];
  let i = 0;
  const blank = (text: string) => text.replace(/[^\n]/g, ' ');
  const lastSignificant = () => {
    let end = code.length;
    while (end > 0 && /\s/.test(code[end - 1]!)) end--;
    return code.slice(Math.max(0, end - 12), end);
  };
  const scanTemplate = () => {
    // from just after a backtick (or the `}` closing a `${`) to the closing backtick or a `${`
    const start = i;
    while (i < source.length) {
      const ch = source[i]!;
      if (ch === '\\') i += 2;
      else if (ch === '`') {
        code += `${blank(source.slice(start, i))}\``;
        i++;
        return;
      } else if (ch === '$' && source[i + 1] === '{') {
        code += `${blank(source.slice(start, i))}\${`;
        i += 2;
        braces.push('template');
        return;
      } else i++;
    }
    code += blank(source.slice(start));
  };
  while (i < source.length) {
    const ch = source[i]!;
    const next = source[i + 1];
    if (ch === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      code += blank(source.slice(i, stop));
      i = stop;
    } else if (ch === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      code += blank(source.slice(i, stop));
      i = stop;
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      let text = '';
      while (j < source.length && source[j] !== ch && source[j] !== '\n') {
        if (source[j] === '\\') {
          text += source.slice(j, j + 2);
          j += 2;
        } else text += source[j++];
      }
      strings.push(text);
      code += `'${strings.length - 1}'${'\n'.repeat(text.split('\n').length - 1)}`;
      i = j + 1;
    } else if (ch === '`') {
      code += '`';
      i++;
      scanTemplate();
    } else if (ch === '{') {
      braces.push('code');
      code += ch;
      i++;
    } else if (ch === '}') {
      code += ch;
      i++;
      if (braces.pop() === 'template') scanTemplate();
    } else if (ch === '/') {
      const previous = lastSignificant();
      if (previous === '' || REGEX_PRECEDERS.has(previous.at(-1)!) || REGEX_KEYWORDS.test(previous)) {
        let j = i + 1;
        let inClass = false;
        while (j < source.length && source[j] !== '\n') {
          const c = source[j]!;
          if (c === '\\') j++;
          else if (c === '[') inClass = true;
          else if (c === ']') inClass = false;
          else if (c === '/' && !inClass) break;
          j++;
        }
        j++;
        while (j < source.length && /[a-z]/i.test(source[j]!)) j++;
        code += blank(source.slice(i, j));
        i = j;
      } else {
        code += ch;
        i++;
      }
    } else {
      code += ch;
      i++;
    }
  }
  return { code, strings };
}

export type Target =
  | { type: 'file'; path: string }
  | { type: 'package'; name: string }
  | { type: 'builtin' }
  | { type: 'outside'; path: string };

/** Where a specifier written in `file` leads; `imports` is the package's `imports` map. */
export function resolveImport(file: string, specifier: string, imports: Record<string, string>): Target {
  if (specifier.startsWith('#')) {
    for (const [key, value] of Object.entries(imports)) {
      const prefix = key.replace(/\*$/, '');
      if (key.endsWith('*') ? specifier.startsWith(prefix) : specifier === key) {
        return inRepository(value.replace('*', specifier.slice(prefix.length)));
      }
    }
    return { type: 'package', name: specifier };
  }
  if (specifier.startsWith('/')) return { type: 'outside', path: specifier };
  if (specifier.startsWith('.')) {
    return inRepository(posix.join(posix.dirname(file), specifier));
  }
  if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!))
    return { type: 'builtin' };
  const parts = specifier.split('/');
  return { type: 'package', name: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]! };
}

function inRepository(path: string): Target {
  const normal = posix.normalize(path);
  return normal.startsWith('../') ? { type: 'outside', path } : { type: 'file', path: normal };
}

/** The folder a file belongs to, as BOUNDARIES names them. */
export function areaOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return 'root';
  const [top, second] = parts as [string, string];
  if (top === 'infra') return parts.length === 2 ? 'infra' : `infra/${second}`;
  if (top === 'functions' || top === 'test') return `${top}/${second}`;
  return top;
}

function ruleOf(area: string): { key: string; may: readonly string[] } | undefined {
  if (BOUNDARIES[area]) return { key: area, may: BOUNDARIES[area] };
  const key = Object.keys(BOUNDARIES).find((pattern) => pattern.includes('*') && globMatches(pattern, area));
  return key === undefined ? undefined : { key, may: BOUNDARIES[key]! };
}

function globMatches(pattern: string, path: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${source}$`).test(path);
}

/** Whether `from` (a file) may import `to` (a file) under BOUNDARIES. */
export function mayImport(from: string, to: string): boolean {
  const fromArea = areaOf(from);
  const toArea = areaOf(to);
  if (fromArea === toArea) return true;
  const rule = ruleOf(fromArea);
  if (rule === undefined) return false;
  return rule.may.some((entry) => globMatches(entry, toArea) || globMatches(entry, to));
}

export interface SourceFile {
  path: string;
  text: string;
}

export interface PackageJson {
  imports?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** Every import between folders that BOUNDARIES does not allow, and every rule naming a file that is gone. */
export function boundaryViolations(
  files: readonly SourceFile[],
  pkg: PackageJson,
  exists: (path: string) => boolean = existsSync,
): Violation[] {
  const violations: Violation[] = [];
  for (const { path, text } of files) {
    for (const ref of scanImports(text)) {
      const target = resolveImport(path, ref.specifier, pkg.imports ?? {});
      if (target.type === 'outside') {
        violations.push({
          file: path,
          line: ref.line,
          message: `'${ref.specifier}' leads outside the repository`,
        });
      } else if (target.type === 'file' && !mayImport(path, target.path)) {
        violations.push({ file: path, line: ref.line, message: explain(path, ref.specifier, target.path) });
      }
    }
  }
  violations.push(...staleRules(BOUNDARIES, exists));

  return violations;
}

/** Rules naming a file that no longer exists: a moved module would leave a rule that allows nothing. */
export function staleRules(
  boundaries: Readonly<Record<string, readonly string[]>>,
  exists: (path: string) => boolean = existsSync,
): Violation[] {
  const violations: Violation[] = [];
  for (const [area, entries] of Object.entries(boundaries)) {
    for (const entry of entries) {
      if (entry.endsWith('.ts') && !entry.includes('*') && !exists(entry)) {
        violations.push({
          file: 'tools/import-boundaries.ts',
          line: 0,
          message: `BOUNDARIES lets ${area} import ${entry}, which no longer exists: remove the entry`,
        });
      }
    }
  }
  return violations;
}

function explain(from: string, specifier: string, to: string): string {
  const fromArea = areaOf(from);
  const toArea = areaOf(to);
  const rule = ruleOf(fromArea);
  const allowed = rule === undefined || rule.may.length === 0 ? 'nothing of ours' : rule.may.join(', ');
  const why = toArea.startsWith('test/')
    ? 'nothing outside test/ imports test code'
    : fromArea.startsWith('functions/') && toArea.startsWith('functions/')
      ? 'a function imports no other function'
      : `${rule?.key ?? fromArea} may import only ${allowed}`;
  return `imports '${specifier}' (${to}): ${why}`;
}

/**
 * What the shipped code needs at run time must be in `dependencies` (so `npm ci --omit=dev` can run
 * it), and every `dependency` must be needed by it. Type-only imports are erased and do not count.
 */
export function dependencyViolations(files: readonly SourceFile[], pkg: PackageJson): Violation[] {
  const byPath = new Map(files.map((file) => [file.path, file]));
  const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
  const used = new Set<string>();
  const violations: Violation[] = [];
  const queue = files.filter((file) => SHIPPED_ENTRIES.some((entry) => globMatches(entry, file.path)));
  const seen = new Set(queue.map((file) => file.path));
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const ref of scanImports(file.text)) {
      if (ref.typeOnly) continue;
      const target = resolveImport(file.path, ref.specifier, pkg.imports ?? {});
      if (target.type === 'package') {
        used.add(target.name);
        if (!dependencies.has(target.name)) {
          violations.push({
            file: file.path,
            line: ref.line,
            message: `'${target.name}' is needed at run time by shipped code but is not in dependencies`,
          });
        }
      } else if (target.type === 'file' && !seen.has(target.path) && byPath.has(target.path)) {
        seen.add(target.path);
        queue.push(byPath.get(target.path)!);
      }
    }
  }
  for (const name of dependencies) {
    if (!used.has(name)) {
      violations.push({
        file: 'package.json',
        line: 0,
        message: `dependency '${name}' is not imported by shipped code (${SHIPPED_ENTRIES.join(', ')}): move it to devDependencies or remove it`,
      });
    }
  }
  return violations;
}

function repositoryFiles(): SourceFile[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    encoding: 'utf8',
  });
  return listed
    .split('\n')
    .filter((path) => SOURCE.test(path) && !path.endsWith('.d.ts') && existsSync(path))
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = repositoryFiles();
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as PackageJson;
  const violations = [...boundaryViolations(files, pkg), ...dependencyViolations(files, pkg)];
  for (const { file, line, message } of violations)
    console.error(`${file}${line > 0 ? `:${line}` : ''}: ${message}`);
  if (violations.length > 0) {
    console.error(
      `\n${violations.length} import rule(s) broken; the rules are BOUNDARIES in tools/import-boundaries.ts.`,
    );
    process.exit(1);
  }
  console.log(`Import boundaries and shipped dependencies hold (${files.length} files).`);
}
