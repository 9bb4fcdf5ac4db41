import { getMetadataArgsStorage } from 'typeorm';
import { EntityType } from '../src/graphql/enums';
import { FILTERABLE } from '../src/modules/common/record-filter';
import { canReadEvent } from '../src/modules/events/event-visibility';
import { CSV_FIELDS } from '../src/modules/imports/csv-fields';
import { ENTITIES, RECORD_KINDS } from '../src/modules/registry';

// The central maps are assembled from the kinds' descriptors (issue 19, point 2): these pin what the
// assembly gives, so that a kind added, or a descriptor changed, shows here as a deliberate change.
describe('record kinds', () => {
  const kinds = new Map(RECORD_KINDS.map((k) => [k.entityType, k]));

  it('describes every kind the API names, once', () => {
    expect(kinds.size).toBe(RECORD_KINDS.length);
    for (const type of Object.values(EntityType)) expect(kinds.has(type)).toBe(true);
  });

  it('registers every entity TypeORM knows of, once', () => {
    const declared = new Set(getMetadataArgsStorage().tables.map((t) => t.target));
    expect(new Set(ENTITIES).size).toBe(ENTITIES.length);
    expect(new Set(ENTITIES)).toEqual(declared);
  });

  it('stored filters select the CRM records, and CSV imports reach the same kinds', () => {
    const crm = ['account', 'contact', 'lead', 'opportunity', 'activity', 'product'];
    expect(Object.keys(FILTERABLE)).toEqual(crm);
    expect(Object.keys(CSV_FIELDS)).toEqual(crm);
    for (const type of crm) expect(FILTERABLE[type].spec.table).toBe(type);
  });

  it('gives the events of ADMIN-only kinds to ADMINs only, and a notification to its recipient only', () => {
    const reader = { admin: false, userId: 'u1' };
    const event = (entityType: string, data: Record<string, unknown> | null = null) => ({ type: `${entityType}.created`, entityType, entityId: 'x', data });
    const adminOnly = RECORD_KINDS.filter((k) => !canReadEvent(reader, event(k.entityType, { userId: 'someone else' }))).map((k) => k.entityType);
    expect(adminOnly.sort()).toEqual(['api_key', 'automation_rule', 'automation_run', 'notification', 'webhook_endpoint']);
    expect(canReadEvent(reader, event('notification', { userId: 'u1' }))).toBe(true);
    for (const k of RECORD_KINDS) expect(canReadEvent({ admin: true, userId: 'u2' }, event(k.entityType, { userId: 'u2' }))).toBe(true);
    // A kind no descriptor names fails closed.
    expect(canReadEvent(reader, event('invoice'))).toBe(false);
  });
});
