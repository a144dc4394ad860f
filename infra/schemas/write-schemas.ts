import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventSchemas, openApiDocument } from './published-schemas.ts';

/** `npm run schemas`: regenerates the committed contracts under `docs/`. */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export function publishedFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'docs/openapi.json': `${JSON.stringify(openApiDocument(), null, 2)}\n`,
  };
  for (const [name, schema] of Object.entries(eventSchemas())) {
    files[`docs/schemas/${name}.json`] = `${JSON.stringify(schema, null, 2)}\n`;
  }
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [path, text] of Object.entries(publishedFiles())) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
    console.log(`wrote ${path}`);
  }
}
