import { forbidden } from '../kernel/errors';
import { Role } from '../kernel/roles';
import type { Viewer } from '../kernel/viewer';

// The ownership rule of owned records (accounts, contacts, leads, opportunities, activities), in one
// place for every write path (single writes, batch upserts, merges): ADMIN, MANAGER and write-scoped
// API keys write anything; a REP writes what it owns or what has no owner.

/** Whether the REP rule applies to this viewer. */
const isRep = (viewer: Viewer) => viewer.role === Role.REP;

/** A REP changes (or merges) only records it owns or that have no owner. */
export function assertMayChange(viewer: Viewer, ownerId: string | null | undefined, verb = 'changes'): void {
  if (isRep(viewer) && ownerId != null && ownerId !== viewer.userId) throw forbidden(`A REP ${verb} only records it owns or that have no owner`);
}

/** A REP deletes only records it owns (not those without an owner). */
export function assertMayDelete(viewer: Viewer, ownerId: string | null | undefined): void {
  if (isRep(viewer) && ownerId !== viewer.userId) throw forbidden('A REP deletes only records it owns');
}

/**
 * A new owned record's owner: the signed-in user unless the input names one (an API key's records
 * have none by default); a REP creates records owned by itself or by no one. Sets `values.ownerId`.
 */
export function ownerOnCreate(viewer: Viewer, values: Record<string, unknown>): void {
  if (values.ownerId === undefined && viewer.kind === 'USER') values.ownerId = viewer.userId;
  if (isRep(viewer) && values.ownerId != null && values.ownerId !== viewer.userId) throw forbidden('A REP creates records owned by itself or by no one');
}
