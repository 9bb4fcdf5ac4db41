import type { ServiceContext } from './context';
import { AppError, badInput, conflict, notFound } from '../kernel/errors';
import { constraintError } from '../db/pg-errors';
import { isUuid } from '../db/tenant-transaction';
import { requireWrite } from '../kernel/viewer';
import { type CrudRow, insertRows, lockRecord, updateRows } from './record-store';
import { assertMayChange } from './ownership';
import { type CustomFieldValidator, planCreate, planUpdate, recordWrites, type UpsertConfig } from './upsert';

/** Which record a single update changes, and the version the client read (a stale one is CONFLICT). */
interface UpdateTarget {
  id: string;
  expectedVersion?: number | null;
}

/**
 * A single create (no `target`) or an update of one record by id: a batch of one through the kind's
 * upsert rules (its UpsertConfig: references, normalisation and the kind's own rules in `prepare`,
 * ownership, required fields, custom fields, `adjust`, events and side records such as the stage
 * history), so that each rule is written once for both ways in. Unlike a batch, which reports each
 * input's errors in its result, it throws what fails with its code: NOT_FOUND (no such id), CONFLICT
 * (a deleted record, a stale `expectedVersion`, a unique key taken), FORBIDDEN (ownership),
 * BAD_USER_INPUT with the fields. An update that changes nothing writes nothing (no event, no new
 * version) and returns the record as it is. Everything in one savepoint of the request's transaction.
 */
export async function writeOne<T extends CrudRow, I extends object>(
  ctx: ServiceContext,
  cfg: UpsertConfig<T, I>,
  customFields: CustomFieldValidator,
  input: I,
  target?: UpdateTarget,
): Promise<T> {
  requireWrite(ctx.viewer);
  const { store } = cfg;
  try {
    return await ctx.tx.savepoint(async () => {
      // The record first, as it is: a missing, deleted, not-one's-own or changed record is said before anything about the input.
      let before: T | null = null;
      if (target) {
        if (!isUuid(target.id)) throw notFound(store.label);
        before = await lockRecord(ctx, store, target.id);
        if (before.deletedAt) throw conflict(`${store.label} is deleted: restore it first`);
        if (cfg.owned) assertMayChange(ctx.viewer, before.ownerId);
        if (target.expectedVersion != null && target.expectedVersion !== before.version)
          throw conflict(`${store.label} was changed by someone else (version ${before.version}, expected ${target.expectedVersion})`, {
            currentVersion: before.version,
          });
      }
      const [prepared] = await cfg.prepare(ctx, [input], { target: before });
      if (Array.isArray(prepared)) throw badInput(prepared);
      if (!before) {
        const [after] = await insertRows(ctx, store, [await planCreate(ctx, cfg, customFields, prepared)]);
        await recordWrites(ctx, cfg, [{ before: null, after, prepared }]);
        return after;
      }
      const values = await planUpdate(ctx, cfg, customFields, before, prepared);
      if (!values) return before;
      const [after] = await updateRows(ctx, store, [{ ...values, id: before.id }]);
      await recordWrites(ctx, cfg, [{ before, after, prepared }]);
      return after;
    });
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw constraintError(err, store.label) ?? err;
  }
}
