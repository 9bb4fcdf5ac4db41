// Regenerates schema/schema.graphql from the code (`npm run schema:write`).
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, printSdl } from '../src/server/schema';

const file = join(__dirname, '..', '..', 'schema', 'schema.graphql');
writeFileSync(file, printSdl(buildSchema()));
console.log(`wrote ${file}`);
