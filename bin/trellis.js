#!/usr/bin/env node
// The package's command (`npx trellis <command>`): the compiled admin CLI, so that a call pays
// Node's start and nothing else. `npm install` compiled it (the `prepare` script); after editing the
// sources, `npm run build` compiles what changed.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'scripts', 'trellis.js');
if (!existsSync(cli)) {
  process.stderr.write(`trellis: ${cli} is not built: run npm run build in ${join(__dirname, '..')}\n`);
  process.exit(1);
}
require(cli);
