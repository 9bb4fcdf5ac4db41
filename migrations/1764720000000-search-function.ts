import type { MigrationInterface, QueryRunner } from 'typeorm';
import { ensureRole } from '../src/db/migration-helpers';
import { SEARCH_ROLE } from '../src/db/roles';
import { createLooseSearchFunction } from '../src/db/search-function-v1';

const TABLES = ['account', 'contact', 'lead', 'opportunity'];

/**
 * Search through one SECURITY DEFINER function. Under row-level security PostgreSQL may not use the
 * trigram and full-text indexes (their operators are not LEAKPROOF), so search scanned every row.
 * SEARCH_ROLE reads these tables through a policy of its own, and the function filters by the
 * transaction's workspace itself (the same setting the RLS policies read), so it sees exactly what
 * the caller may see, with the indexes.
 */
export class SearchFunction1764720000000 implements MigrationInterface {
  name = 'SearchFunction1764720000000';

  async up(qr: QueryRunner): Promise<void> {
    await ensureRole(qr, SEARCH_ROLE);
    await qr.query(`GRANT USAGE ON SCHEMA public TO ${SEARCH_ROLE}`);
    for (const t of TABLES) {
      await qr.query(`GRANT SELECT ON ${t} TO ${SEARCH_ROLE}`);
      await qr.query(`CREATE POLICY search_read ON ${t} FOR SELECT TO ${SEARCH_ROLE} USING (true)`);
    }
    await createLooseSearchFunction(qr);
  }

  async down(qr: QueryRunner): Promise<void> {
    await qr.query(`DROP FUNCTION trellis_search(text, text[], int)`);
    for (const t of TABLES) {
      await qr.query(`DROP POLICY search_read ON ${t}`);
      await qr.query(`REVOKE SELECT ON ${t} FROM ${SEARCH_ROLE}`);
    }
    await qr.query(`REVOKE USAGE ON SCHEMA public FROM ${SEARCH_ROLE}`);
  }
}
