import { randomUUID } from 'node:crypto';
import type { Fixture, Kind } from './fixture';
import { type Fill, type Position, uniq, validScalar } from './schema-walk';

/**
 * Which kind of record an argument refers to, from its name and its field's: `accountId` an account,
 * `updateLineItem(id)` a line item, `filter: { ownerId }` a user, and so on. An empty answer means
 * the fixture has no record of that kind (the position is reported as skipped).
 */
const BY_NAME: Record<string, Kind> = {
  ownerId: 'user',
  managerId: 'user',
  teamId: 'team',
  accountId: 'account',
  contactId: 'contact',
  primaryContactId: 'contact',
  leadId: 'lead',
  opportunityId: 'opportunity',
  pipelineId: 'pipeline',
  stageId: 'stage',
  stageIds: 'stage',
  productId: 'product',
  endpointId: 'webhookEndpoint',
  deliveryId: 'webhookDelivery',
  ruleId: 'automationRule',
  workspaceId: 'workspace',
};
const BY_FIELD: Record<string, Partial<Record<string, Kind>>> = {
  deletePipeline: { targetStageId: 'stageOther' },
  deleteStage: { targetStageId: 'stage2' },
  mergeAccounts: { survivorId: 'account', mergedIds: 'account2' },
  mergeContacts: { survivorId: 'contact', mergedIds: 'contact2' },
  markNotificationsRead: { ids: 'notification' },
  testAutomationRule: { recordId: 'account' },
  duplicates: { id: 'account' },
};
/** The entity a field's own `id` names, by the end of the field's name (first match wins). */
const ID_BY_SUFFIX: [string, Kind][] = [
  ['lineitem', 'lineItem'],
  ['customfield', 'customField'],
  ['task', 'activity'],
  ['webhooksecret', 'webhookEndpoint'],
  ['webhookendpoint', 'webhookEndpoint'],
  ['automationrule', 'automationRule'],
  ['apikey', 'apiKey'],
  ['importjob', 'importJob'],
  ['stage', 'stage'],
  ['pipeline', 'pipeline'],
  ['opportunity', 'opportunity'],
  ['account', 'account'],
  ['contact', 'contact'],
  ['lead', 'lead'],
  ['activity', 'activity'],
  ['product', 'product'],
  ['team', 'team'],
  ['user', 'user'],
];
const ENTITY_WORDS: [string, Kind][] = [
  ['opportunit', 'opportunity'],
  ['activit', 'activity'],
  ['account', 'account'],
  ['contact', 'contact'],
  ['lead', 'lead'],
  ['product', 'product'],
  ['pipeline', 'pipeline'],
  ['team', 'team'],
  ['user', 'user'],
];
const RECORDS: Kind[] = [
  'account',
  'contact',
  'lead',
  'opportunity',
  'activity',
  'product',
  'user',
  'team',
  'pipeline',
  'webhookEndpoint',
  'automationRule',
  'apiKey',
  'importJob',
];

const entityOf = (text: string): Kind | undefined => ENTITY_WORDS.find(([w]) => text.toLowerCase().includes(w))?.[1];

export function kindsOf(pos: Position): Kind[] {
  const field = pos.op.field.name;
  const last = pos.path[pos.path.length - 1];
  const name = pos.path.length === 3 ? pos.path[1] : last; // filter.<name>.eq
  const special = BY_FIELD[field]?.[name];
  if (special) return [special];
  if (field === 'timeline' && name === 'recordId') return RECORDS;
  // Relay's node(id) and nodes(ids) take an id of any kind.
  if ((field === 'node' && name === 'id') || (field === 'nodes' && name === 'ids')) return RECORDS;
  if (name === 'id' || name === 'ids') {
    // A list's filter on `id` names the list's entity; a field's own id, the field's.
    const source = pos.path.length === 3 ? pos.op.field.args.find((a) => a.name === pos.path[0])!.type.toString() : field;
    if (pos.path.length === 3) {
      const kind = entityOf(source);
      return kind ? [kind] : [];
    }
    const hit = ID_BY_SUFFIX.find(([suffix]) => field.toLowerCase().endsWith(suffix));
    return hit ? [hit[1]] : [];
  }
  if (BY_NAME[name]) return [BY_NAME[name]];
  if (name === 'externalId' || name === 'accountExternalId' || name === 'ownerEmail') {
    const kind = name === 'accountExternalId' ? 'account' : name === 'ownerEmail' ? 'user' : entityOf(pos.parent || field);
    return kind && ['account', 'contact', 'lead', 'opportunity', 'product', 'activity', 'user'].includes(kind) ? [kind] : [];
  }
  return [];
}

/** The reference to `kind` in fixture `f` for a position: its id, its external id, or its email. */
export function referenceTo(f: Fixture, kind: Kind, pos: Position): string {
  const last = pos.path[pos.path.length - 1];
  if (last === 'ownerEmail') return f.emails.user;
  if (pos.scalar === 'String') return f.externalIds[kind as keyof Fixture['externalIds']];
  return f.ids[kind];
}

/** A reference of the same shape to nothing at all. */
export function randomReference(pos: Position): string {
  const last = pos.path[pos.path.length - 1];
  if (last === 'ownerEmail') return `nobody-${randomUUID()}@example.com`;
  return pos.scalar === 'String' ? `ext-${randomUUID()}` : randomUUID();
}

const UPSERT_FIELDS = new Set(['externalId', 'name', 'lastName', 'subject']);
const UPDATE_FIELDS = new Set(['name', 'lastName', 'subject', 'label']);

/**
 * Fills arguments with workspace `b`'s own records and otherwise valid values, so that the only thing
 * wrong with a probe is the one reference injected into it.
 */
export function fillFrom(b: Fixture): Fill {
  return ({ op, path, name, type, parent, required }) => {
    const field = op.field.name;
    if (field === 'logIn' && name === 'email') return b.admin.email;
    if (field === 'logIn' && name === 'password') return b.admin.password;
    if (field === 'replayWebhookEvents' && name === 'after') return b.cursor;
    if (field === 'reorderStages' && name === 'stageIds') return b.stageIds;
    if (field === 'pipelineSummary' && name === 'pipelineId' && path.length === 1) return b.ids.pipeline;
    if ((field === 'createAutomationRule' || field === 'updateAutomationRule') && path.length === 2 && path[0] === 'input') {
      if (name === 'trigger') return { type: 'RECORD_EVENT', events: ['lead.created'] };
      if (name === 'actions') return [{ type: 'NOTIFY', params: { to: 'ADMINS', title: `Probe ${uniq()}` } }];
    }
    if (field.startsWith('upsert') && path[0] === 'inputs' && path.length === 2 && UPSERT_FIELDS.has(name) && parent.includes('Upsert')) {
      if (name === 'subject' && !parent.includes('Activit')) return undefined;
      if (name === 'name' && (parent.includes('Contact') || parent.includes('Lead') || parent.includes('Activit'))) return undefined;
      if (name === 'lastName' && !(parent.includes('Contact') || parent.includes('Lead'))) return undefined;
      return name === 'externalId' ? `probe-${uniq()}` : `Probe ${uniq()}`;
    }
    if (field.startsWith('update') && path[0] === 'input' && path.length === 2 && UPDATE_FIELDS.has(name) && !required)
      return validScalar('String', name, parent);
    if (type.name === 'ID' && required) {
      const kind = kindsOf({ op, path, parent, list: false, scalar: 'ID' })[0];
      if (!kind) throw new Error(`no filler for the required id ${field}(${path.join('.')})`);
      return b.ids[kind];
    }
    return undefined;
  };
}
