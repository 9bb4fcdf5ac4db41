import type { ServiceContext } from './context';
import type { FieldError } from '../kernel/errors';
import { idsByKey } from './upsert';

/** A reference an upsert input makes by id, external id or natural key. */
interface RefRule<I> {
  /** The property the resolved id goes to, e.g. `accountId`. */
  target: string;
  table: string;
  label: string;
  byId?: (i: I) => string | null | undefined;
  /** [input field, column, compare lower-cased] for a natural key, e.g. ['ownerEmail', 'email', true]. */
  byKey?: [field: string, column: string, lower: boolean, get: (i: I) => string | null | undefined];
}

/**
 * Resolves the references of a whole batch in one query per kind of key, and gives, per input, the
 * resolved ids or the fields that refer to nothing.
 */
export async function resolveRefs<I>(
  ctx: ServiceContext,
  inputs: I[],
  rules: RefRule<I>[],
): Promise<(Record<string, string | null | undefined> | FieldError[])[]> {
  const maps = await Promise.all(
    rules.map(async (r) => ({
      ids: r.byId
        ? await idsByKey(
            ctx,
            r.table,
            'id',
            inputs.map((i) => validUuid(r.byId!(i))),
          )
        : new Map<string, string>(),
      keys: r.byKey
        ? await idsByKey(
            ctx,
            r.table,
            r.byKey[1],
            inputs.map((i) => r.byKey![3](i)),
            r.byKey[2],
          )
        : new Map<string, string>(),
    })),
  );
  return inputs.map((input) => {
    const out: Record<string, string | null | undefined> = {};
    const errors: FieldError[] = [];
    rules.forEach((r, n) => {
      const id = r.byId?.(input);
      const key = r.byKey?.[3](input);
      if (id !== undefined && id !== null) {
        if (maps[n].ids.has(id)) out[r.target] = id;
        else errors.push({ field: r.target, message: `no such ${r.label}` });
      } else if (key) {
        const found = maps[n].keys.get(r.byKey![2] ? key.toLowerCase() : key);
        if (found) out[r.target] = found;
        else errors.push({ field: r.byKey![0], message: `no ${r.label} with ${r.byKey![1]} ${key}` });
      } else if (id === null) {
        out[r.target] = null;
      }
    });
    return errors.length ? errors : out;
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const validUuid = (v: string | null | undefined) => (v && UUID.test(v) ? v : undefined);

export const ownerRule = <I extends { ownerId?: string | null; ownerEmail?: string | null }>(): RefRule<I> => ({
  target: 'ownerId',
  table: 'app_user',
  label: 'active user',
  byId: (i) => i.ownerId,
  byKey: ['ownerEmail', 'email', true, (i) => i.ownerEmail],
});
