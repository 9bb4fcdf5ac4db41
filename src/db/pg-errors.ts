import { AppError, badInput, conflict } from '../kernel/errors';

export const PG_UNIQUE = '23505';
const PG_FOREIGN_KEY = '23503';
export const PG_CHECK = '23514';
export const PG_NUMERIC_OUT_OF_RANGE = '22003';
export const PG_INSUFFICIENT_PRIVILEGE = '42501';

/** The SQLSTATE and constraint of a failed statement (TypeORM wraps pg's error in `driverError`). */
export function pgError(err: unknown): { code?: string; constraint?: string } {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } } | null;
  return { code: e?.driverError?.code ?? e?.code, constraint: e?.driverError?.constraint ?? e?.constraint };
}

/**
 * A constraint violation the service checks did not foresee, as the client error it is (CONFLICT for
 * a taken unique value, BAD_USER_INPUT for a missing reference or a value out of range); null for any
 * other failure, which stays internal.
 */
export function constraintError(err: unknown, label: string): AppError | null {
  const { code, constraint = '' } = pgError(err);
  const what = label.toLowerCase();
  if (code === PG_UNIQUE) {
    return conflict(
      constraint.endsWith('external_id_key') ? `Another ${what} already has this externalId` : `Another ${what} already has this value (${constraint})`,
    );
  }
  if (code === PG_FOREIGN_KEY) return badInput([{ field: constraint, message: 'refers to a record that does not exist' }]);
  if (code === PG_CHECK) return badInput([{ field: constraint, message: 'is out of range' }]);
  return null;
}
