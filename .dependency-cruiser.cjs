// The dependency rules of src/ (docs/architecture.md): layers, by dependency direction, from the
// bottom up. A module may import from its own layer and the layers below it, never from above, and
// nothing may form an import cycle. `npm run lint` and .ci/run check them.
const LAYERS = ['kernel', 'db', 'graphql', 'data', 'events', 'modules', 'server'];

const above = (i) => LAYERS.slice(i + 1);
const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `${layer}-imports-upwards`,
  comment: `src/${layer} may import only from ${LAYERS.slice(0, i + 1).join(', ')} (the layers at or below it)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${above(i).join('|')})/|^src/main\\.ts$` },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: split the shared part into the lower of the two modules.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'kernel-imports-nothing-of-src',
      comment: 'src/kernel is the bottom: libraries only.',
      severity: 'error',
      from: { path: '^src/kernel/' },
      to: { path: '^src/', pathNot: '^src/kernel/' },
    },
    {
      name: 'src-outside-a-layer',
      comment: 'Every file of src/ belongs to a layer (or is src/main.ts, the composition root).',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${LAYERS.join('|')})/|^src/main\\.ts$` },
      to: {},
    },
    {
      name: 'product-imports-tests-or-tools',
      comment: 'The product never imports tests, benchmarks or scripts.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|scripts)/' },
    },
    {
      name: 'migrations-import-db-only',
      comment: 'A migration is frozen history: it may use the database helpers, nothing that changes with the product.',
      severity: 'error',
      from: { path: '^migrations/' },
      to: { path: '^src/', pathNot: '^src/(kernel|db)/' },
    },
    {
      name: 'product-imports-dev-dependencies',
      comment: 'A devDependency is not installed in production (npm ci --omit=dev).',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/|^scripts/bench/peers/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'types', 'default'] },
  },
};
