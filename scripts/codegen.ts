// `npm run codegen`: the examples' typed documents (examples/generated/graphql.ts), generated from the
// committed schema (schema/schema.graphql) and the examples' .graphql documents, so the types follow
// the API without a running server. graphql-codegen's core and plugins, called directly: its CLI
// pulls in loaders for URLs, GitHub and Apollo Studio this needs none of (and that want Node 22).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { codegen } from '@graphql-codegen/core';
import * as typedDocumentNode from '@graphql-codegen/typed-document-node';
import * as typescriptOperations from '@graphql-codegen/typescript-operations';
import { buildSchema, parse } from 'graphql';

const ROOT = join(__dirname, '..', '..');
export const OUTPUT = 'examples/generated/graphql.ts';

/** Every .graphql document under examples/, in path order. */
function documents(dir = join(ROOT, 'examples')): { location: string; document: ReturnType<typeof parse> }[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return e.name === 'generated' ? [] : documents(path);
      return e.name.endsWith('.graphql') ? [{ location: relative(ROOT, path), document: parse(readFileSync(path, 'utf8')) }] : [];
    });
}

/** The text of examples/generated/graphql.ts as it should be today. */
export async function generateExampleTypes(): Promise<string> {
  const schema = buildSchema(readFileSync(join(ROOT, 'schema', 'schema.graphql'), 'utf8'));
  return codegen({
    filename: OUTPUT,
    schema: parse(readFileSync(join(ROOT, 'schema', 'schema.graphql'), 'utf8')),
    schemaAst: schema,
    documents: documents(),
    // typescript-operations writes each document's result and variables types with the enums and
    // inputs they use (the `typescript` plugin's types of the whole schema would be dead weight);
    // typed-document-node adds the documents themselves, typed by them.
    plugins: [{ 'typescript-operations': {} }, { 'typed-document-node': {} }],
    pluginMap: { 'typescript-operations': typescriptOperations, 'typed-document-node': typedDocumentNode },
    // Trellis' scalars as they travel in JSON: exact decimals and dates stay strings.
    config: { strictScalars: true, scalars: { DateTime: 'string', Date: 'string', Decimal: 'string', JSON: 'unknown' }, useTypeImports: true },
  });
}

if (require.main === module) {
  generateExampleTypes().then(
    (text) => {
      // --stdout: print instead of writing (the test compares it with the committed file).
      if (process.argv.includes('--stdout')) return void process.stdout.write(text);
      writeFileSync(join(ROOT, OUTPUT), text);
      process.stdout.write(`wrote ${OUTPUT}\n`);
    },
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
