import { describe, expect, it } from 'vitest';
import {
  boundaryViolations,
  dependencyViolations,
  type PackageJson,
  resolveImport,
  type SourceFile,
  scanImports,
  staleRules,
} from '#tools/import-boundaries.ts';

const IMPORTS = {
  '#shared/*': './shared/*',
  '#functions/*': './functions/*',
  '#infra/*': './infra/*',
  '#test/*': './test/*',
};
const PKG: PackageJson = { imports: IMPORTS, dependencies: { zod: '4.0.0' } };
const everythingExists = () => true;

function violationsOf(path: string, text: string): string[] {
  return boundaryViolations([{ path, text }], PKG, everythingExists).map(
    (v) => `${v.file}:${v.line}: ${v.message}`,
  );
}

describe('scanImports', () => {
  it('reads static, side-effect, re-export, dynamic, require and mock imports with their lines', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '#shared/b.ts';",
      'import {',
      '  c,',
      '  type D,',
      "} from 'pkg-c';",
      "import './side-effect.ts';",
      "export { e } from '../e.ts';",
      "export type * from './f.ts';",
      "const g = await import('#infra/g.ts');",
      "type H = typeof import('./h.ts');",
      "const i = require('node:fs');",
      "vi.mock('#shared/j.ts', () => ({}));",
    ].join('\n');
    expect(scanImports(source)).toEqual([
      { specifier: './a.ts', line: 1, kind: 'static', typeOnly: false },
      { specifier: '#shared/b.ts', line: 2, kind: 'static', typeOnly: true },
      { specifier: 'pkg-c', line: 3, kind: 'static', typeOnly: false },
      { specifier: './side-effect.ts', line: 7, kind: 'static', typeOnly: false },
      { specifier: '../e.ts', line: 8, kind: 'static', typeOnly: false },
      { specifier: './f.ts', line: 9, kind: 'static', typeOnly: true },
      { specifier: '#infra/g.ts', line: 10, kind: 'dynamic', typeOnly: false },
      { specifier: './h.ts', line: 11, kind: 'dynamic', typeOnly: true },
      { specifier: 'node:fs', line: 12, kind: 'dynamic', typeOnly: false },
      { specifier: '#shared/j.ts', line: 13, kind: 'mock', typeOnly: true },
    ]);
  });

  it('takes no import from comments, strings, template literals or regular expressions', () => {
    const source = [
      "// import { x } from '#test/x.ts';",
      "/* import('#test/y.ts') */",
      'const s = "import z from \'#test/z.ts\'";',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the fixture is source text holding a template literal
      "const t = `import w from '#test/w.ts'; ${`nested ${\"import('#test/v.ts')\"}`}`;",
      "const r = /import u from '#test\\/u.ts'/;",
      "const ratio = a / b; import { real } from '#shared/real.ts';",
    ].join('\n');
    expect(scanImports(source).map((ref) => `${ref.line} ${ref.specifier}`)).toEqual(['6 #shared/real.ts']);
  });
});

describe('resolveImport', () => {
  it('resolves the imports map, relative paths, packages and built-ins', () => {
    expect(resolveImport('shared/link/a.ts', '#test/support/x.ts', IMPORTS)).toEqual({
      type: 'file',
      path: 'test/support/x.ts',
    });
    expect(resolveImport('shared/link/a.ts', '../../test/support/x.ts', IMPORTS)).toEqual({
      type: 'file',
      path: 'test/support/x.ts',
    });
    expect(resolveImport('shared/a.ts', '@aws-sdk/client-sqs/dist', IMPORTS)).toEqual({
      type: 'package',
      name: '@aws-sdk/client-sqs',
    });
    expect(resolveImport('shared/a.ts', 'zod/mini', IMPORTS)).toEqual({ type: 'package', name: 'zod' });
    expect(resolveImport('shared/a.ts', 'node:http', IMPORTS)).toEqual({ type: 'builtin' });
    expect(resolveImport('shared/a.ts', '../../elsewhere.ts', IMPORTS).type).toBe('outside');
  });
});

describe('boundaryViolations', () => {
  it('fails shared/ importing test code, written through the imports map or relatively', () => {
    expect(violationsOf('shared/link/a.ts', "import { x } from '#test/support/x.ts';")).toEqual([
      "shared/link/a.ts:1: imports '#test/support/x.ts' (test/support/x.ts): nothing outside test/ imports test code",
    ]);
    expect(
      violationsOf('shared/link/a.ts', "import type { X } from '../../test/support/x.ts';"),
    ).toHaveLength(1);
  });

  it('fails shared/ importing functions/ or infra/', () => {
    expect(violationsOf('shared/a.ts', "import { x } from '#infra/config/stage-config.ts';")).toEqual([
      "shared/a.ts:1: imports '#infra/config/stage-config.ts' (infra/config/stage-config.ts): shared may import only shared",
    ]);
    expect(violationsOf('shared/a.ts', "import { x } from '../functions/track-link/app.ts';")).toHaveLength(
      1,
    );
  });

  it('fails a function importing another function, in either spelling', () => {
    expect(
      violationsOf('functions/track-link/app.ts', "import { y } from '#functions/recheck-pending/app.ts';"),
    ).toEqual([
      "functions/track-link/app.ts:1: imports '#functions/recheck-pending/app.ts' (functions/recheck-pending/app.ts): a function imports no other function",
    ]);
    expect(
      violationsOf('functions/track-link/app.ts', "import { y } from '../recheck-pending/app.ts';"),
    ).toHaveLength(1);
  });

  it('lets a function import shared/ and its own files', () => {
    const source = "import { a } from '#shared/link/a.ts';\nimport { b } from './requests.ts';";
    expect(violationsOf('functions/track-link/app.ts', source)).toEqual([]);
  });

  it("lets the local cloud import a function's handler but not its other modules", () => {
    expect(violationsOf('infra/local/cloud.ts', "await import('#functions/track-link/handler.ts');")).toEqual(
      [],
    );
    expect(
      violationsOf('infra/local/cloud.ts', "import { x } from '#functions/track-link/internal.ts';"),
    ).toHaveLength(1);
  });

  it('lets tests import code and test support, but not another tier, and test support no tier', () => {
    const code =
      "import { a } from '#infra/sandbox/server.ts';\nimport { b } from '#test/support/ledger.ts';";
    expect(violationsOf('test/integration/x.test.ts', code)).toEqual([]);
    expect(violationsOf('test/integration/x.test.ts', "import { c } from '../unit/y.test.ts';")).toHaveLength(
      1,
    );
    expect(violationsOf('test/support/z.ts', "import { c } from '#test/unit/y.test.ts';")).toHaveLength(1);
  });

  it('fails a rule that names a file that no longer exists', () => {
    const rules = { 'infra/cli': ['shared', 'functions/track-link/requests.ts', 'functions/*/app.ts'] };
    const violations = staleRules(rules, (path) => !path.startsWith('functions/'));
    expect(violations.map((v) => v.message)).toEqual([
      'BOUNDARIES lets infra/cli import functions/track-link/requests.ts, which no longer exists: remove the entry',
    ]);
    expect(staleRules(rules, () => true)).toEqual([]);
  });
});

describe('dependencyViolations', () => {
  const files: SourceFile[] = [
    { path: 'functions/track-link/handler.ts', text: "import { a } from '#shared/a.ts';" },
    {
      path: 'shared/a.ts',
      text: "import * as z from 'zod/mini';\nimport type { T } from 'types-only';\nimport { dev } from 'dev-tool';",
    },
    { path: 'test/unit/a.test.ts', text: "import { t } from 'test-only';" },
  ];

  it('fails a package the shipped code imports at run time that is not a dependency, and nothing else', () => {
    expect(dependencyViolations(files, PKG)).toEqual([
      {
        file: 'shared/a.ts',
        line: 3,
        message: "'dev-tool' is needed at run time by shipped code but is not in dependencies",
      },
    ]);
  });

  it('fails a dependency that no shipped code imports', () => {
    const pkg = { ...PKG, dependencies: { zod: '4.0.0', 'dev-tool': '1.0.0', 'bench-only': '1.0.0' } };
    expect(dependencyViolations(files, pkg).map((v) => v.message)).toEqual([
      expect.stringContaining("dependency 'bench-only' is not imported by shipped code"),
    ]);
  });
});
