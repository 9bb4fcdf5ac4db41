import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, printSdl } from '../src/server/schema';

describe('schema/schema.graphql', () => {
  it('is what the code generates (run `npm run schema:write` after changing the API)', () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8');
    expect(printSdl(buildSchema())).toBe(committed);
  });
});
