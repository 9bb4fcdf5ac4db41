import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Row-level security hides rows through a policy, so PostgreSQL refuses to evaluate a condition
 * inside an index scan (ahead of the policy) unless every function in it is LEAKPROOF: a function
 * that could raise an error depending on a row's value would otherwise tell a caller something
 * about rows the policy hides. The comparison functions of `numeric` are not marked LEAKPROOF
 * (those of int, text, uuid, date and timestamptz are), so every condition on an amount, the keyset
 * of a list sorted by amount included, was a filter over the whole workspace: page 10 000 by
 * amount read 500 000 rows (0.7 s) instead of 51 (1 ms).
 *
 * These functions compare two numerics and return a boolean; they raise no error for any input
 * (NaN and the infinities are ordered values), so they leak nothing: marking them LEAKPROOF is what
 * PostgreSQL already does for the same functions of the other types. Only a superuser may mark a
 * function LEAKPROOF. On a server where the migration role is not one (a managed database), the
 * migration says so and changes nothing: answers stay the same, amount conditions stay slow.
 * The marks live in this database's catalog: a dump and restore does not carry them (run this
 * migration's statements again after a restore).
 */
const FUNCTIONS = ['numeric_eq', 'numeric_ne', 'numeric_lt', 'numeric_le', 'numeric_gt', 'numeric_ge'].map((f) => `${f}(numeric, numeric)`);

export class LeakproofNumericComparisons1764807000000 implements MigrationInterface {
  name = 'LeakproofNumericComparisons1764807000000';

  async up(qr: QueryRunner): Promise<void> {
    await this.mark(qr, 'LEAKPROOF');
  }

  async down(qr: QueryRunner): Promise<void> {
    await this.mark(qr, 'NOT LEAKPROOF');
  }

  private async mark(qr: QueryRunner, mark: string): Promise<void> {
    const [{ superuser }] = await qr.query(`SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user`);
    if (!superuser) {
      await qr.query(`DO $$ BEGIN RAISE NOTICE 'not a superuser: numeric comparisons stay as they are (%)', '${mark}'; END $$`);
      return;
    }
    for (const f of FUNCTIONS) await qr.query(`ALTER FUNCTION pg_catalog.${f} ${mark}`);
  }
}
