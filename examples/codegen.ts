// graphql-codegen configuration (`npm run codegen`): typed documents for the examples, generated from
// the committed schema (schema/schema.graphql), so the types follow the API without a running server.
// Paths are relative to the repository root, where npm scripts run.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['examples/**/*.graphql'],
  generates: {
    'examples/generated/graphql.ts': {
      // typescript-operations (v6) writes each document's result and variables types with the enums
      // and inputs they use (the `typescript` plugin's types of the whole schema would be dead weight);
      // typed-document-node adds the documents themselves, typed by them.
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        // Trellis' scalars as they travel in JSON: exact decimals and dates stay strings.
        strictScalars: true,
        scalars: { DateTime: 'string', Date: 'string', Decimal: 'string', JSON: 'unknown' },
        useTypeImports: true,
      },
    },
  },
};

export default config;
