import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

type RowMapper<T> = (row: Record<string, unknown>) => T;

const cache = new WeakMap<object, RowMapper<unknown>>();

/**
 * Maps raw snake_case rows to entity instances, using the entity's TypeORM metadata, so hand-written
 * SQL and the entity classes never disagree about column names.
 */
export function rowMapper<T extends ObjectLiteral>(ds: DataSource, entity: EntityTarget<T>): RowMapper<T> {
  const key = entity as object;
  const hit = cache.get(key);
  if (hit) return hit as RowMapper<T>;
  const meta = ds.getMetadata(entity);
  const cols = meta.columns.map((c) => [c.databaseName, c.propertyName] as const);
  const target = meta.target as new () => T;
  const map: RowMapper<T> = (row) => {
    const out = new target() as Record<string, unknown>;
    for (const [db, prop] of cols) if (db in row) out[prop] = row[db];
    return out as T;
  };
  cache.set(key, map as RowMapper<unknown>);
  return map;
}
