import { rowMapper } from '../../data/hydrate';
import { isUuid } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { badField, conflict, notFound } from '../../kernel/errors';
import { requireWrite } from '../../kernel/viewer';
import { diff } from '../../data/event-log';
import { recordEvents, type StoreSpec, updateRecord, updateRows } from '../../data/record-store';
import type { CrudRow } from '../../data/record-store';
import { assertMayChange } from '../../data/ownership';

const MAX_MERGED = 9;

/** Records of another kind that point at the merged records and move to the survivor. */
interface MergeRelation {
  store: StoreSpec<any>;
  /** The entity property (and, in snake case, the column) holding the reference. */
  field: string;
}

interface MergeConfig<T extends CrudRow> {
  store: StoreSpec<T>;
  /** Fields the survivor takes from a merged record when its own is empty. */
  fillFields: (keyof T & string)[];
  relations: MergeRelation[];
}

/**
 * Merges up to 9 records into a survivor, in one savepoint: what pointed at the merged records points
 * at the survivor (each moved record with its `updated` event), the survivor's empty fields are filled
 * from the merged ones (in the order given; custom field values it lacks too), and the merged records
 * are soft-deleted with a link to the survivor and a `<type>.merged` event.
 */
export async function mergeRecords<T extends CrudRow & { mergedIntoId?: string | null }>(
  ctx: ServiceContext,
  cfg: MergeConfig<T>,
  survivorId: string,
  mergedIds: string[],
): Promise<T> {
  requireWrite(ctx.viewer);
  const { store } = cfg;
  if (mergedIds.length === 0 || mergedIds.length > MAX_MERGED) throw badField('mergedIds', `give 1 to ${MAX_MERGED} records to merge`);
  if (new Set(mergedIds).size !== mergedIds.length || mergedIds.includes(survivorId))
    throw badField('mergedIds', 'must be distinct and must not hold the survivor');
  const ids = [survivorId, ...mergedIds];
  if (!ids.every(isUuid)) throw notFound(store.label);
  return ctx.tx.savepoint(async () => {
    const rows = await ctx.tx.query(`SELECT * FROM ${store.table} WHERE workspace_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`, [
      ctx.tx.workspaceId,
      ids,
    ]);
    const byId = new Map(rows.map((r) => [r.id as string, rowMapper(ctx.tx.dataSource, store.entity)(r)]));
    const records = ids.map((id) => byId.get(id));
    if (records.some((r) => !r)) throw notFound(store.label);
    if (records.some((r) => r!.deletedAt)) throw conflict(`A ${store.label.toLowerCase()} to merge is deleted`);
    for (const r of records) assertMayChange(ctx.viewer, r!.ownerId, 'merges');
    const [survivor, ...merged] = records as T[];

    for (const rel of cfg.relations) {
      const column = rel.field.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
      const moving = await ctx.tx.query(`SELECT * FROM ${rel.store.table} WHERE workspace_id = $1 AND ${column} = ANY($2::uuid[]) FOR UPDATE`, [
        ctx.tx.workspaceId,
        mergedIds,
      ]);
      if (moving.length === 0) continue;
      const before = moving.map(rowMapper(ctx.tx.dataSource, rel.store.entity));
      const after = await updateRows(
        ctx,
        rel.store,
        before.map((b) => ({ id: b.id, [rel.field]: survivor.id })),
      );
      const beforeById = new Map(before.map((b) => [b.id, b]));
      await recordEvents(
        ctx,
        `${rel.store.entityType}.updated`,
        rel.store.entityType,
        after.map((a) => {
          const data = rel.store.toData(a);
          return { entityId: a.id, changes: diff(rel.store.toData(beforeById.get(a.id)!), data, rel.store.trackedFields), data };
        }),
      );
    }

    const fill: Record<string, unknown> = {};
    for (const f of cfg.fillFields) {
      if (survivor[f] != null && survivor[f] !== '') continue;
      const donor = merged.find((m) => m[f] != null && m[f] !== '');
      if (donor) fill[f] = donor[f];
    }
    if (survivor.customFields) {
      const custom = Object.assign({}, ...[...merged].reverse().map((m) => m.customFields ?? {}), survivor.customFields);
      if (JSON.stringify(custom) !== JSON.stringify(survivor.customFields)) fill.customFields = custom;
    }
    const result = Object.keys(fill).length ? (await updateRecord(ctx, store, survivor.id, fill, {}, survivor)).record : survivor;
    for (const m of merged) {
      await updateRecord(ctx, store, m.id, { deletedAt: new Date(), mergedIntoId: survivor.id }, { eventType: `${store.entityType}.merged`, always: true }, m);
    }
    return result;
  });
}
