import { type GraphQLResolveInfo, isAbstractType, type OperationDefinitionNode, TypeInfo, visit, visitWithTypeInfo } from 'graphql';
import { fieldResolverDeclarations, objectTypeName, objectTypeNames } from '../kernel/type-graphql-internals';

/**
 * Which columns of an entity a request needs: those behind the fields its document selects on the
 * entity's GraphQL type, anywhere in the document. Lists read only these (and fetch related rows
 * with only these), so a page of deals with their account's name does not read, send and parse
 * every column of every row.
 *
 * Why a partial record is safe: every record of a type that a request's resolvers see answers the
 * selections of that type in this document, and the union of all of them is what is read. A field
 * that is not a column of its own needs a declaration below of the columns it reads; a field
 * without one (or any selection on an interface) makes the request read the whole row, as before.
 */

/** The properties a computed field (getter or field resolver) reads, besides `id`. */
const FIELD_NEEDS: Record<string, Record<string, string[]>> = {
  Opportunity: {
    amount: ['amountValue', 'currency'],
    owner: ['ownerId'],
    account: ['accountId'],
    primaryContact: ['primaryContactId'],
    stage: ['stageId'],
    pipeline: ['pipelineId'],
    lineItems: [],
    stageHistory: [],
    activities: [],
  },
  Account: {
    annualRevenue: ['annualRevenueAmount', 'annualRevenueCurrency'],
    owner: ['ownerId'],
    mergedInto: ['mergedIntoId'],
    contacts: [],
    opportunities: [],
    activities: [],
  },
  Contact: { name: ['firstName', 'lastName'], owner: ['ownerId'], account: ['accountId'], mergedInto: ['mergedIntoId'], activities: [] },
  Lead: {
    name: ['firstName', 'lastName'],
    owner: ['ownerId'],
    convertedAccount: ['convertedAccountId'],
    convertedContact: ['convertedContactId'],
    convertedOpportunity: ['convertedOpportunityId'],
    activities: [],
  },
  Activity: { owner: ['ownerId'], account: ['accountId'], contact: ['contactId'], lead: ['leadId'], opportunity: ['opportunityId'] },
  User: { team: ['teamId'] },
  Stage: { pipeline: ['pipelineId'] },
  Pipeline: { stages: [] },
};

/** The fields selected per GraphQL object type in one operation; `null` for types selected through an interface. */
type Selected = Map<string, Set<string> | null>;
const byOperation = new WeakMap<OperationDefinitionNode, Selected>();

function selected(info: GraphQLResolveInfo): Selected {
  // Apollo keeps parsed documents: the same query reuses the same operation node, so this walk runs once per document.
  let out = byOperation.get(info.operation);
  if (out) return out;
  const result: Selected = new Map();
  const typeInfo = new TypeInfo(info.schema);
  const visitor = visitWithTypeInfo(typeInfo, {
    Field(node) {
      const parent = typeInfo.getParentType();
      if (!parent) return;
      if (isAbstractType(parent)) {
        for (const t of info.schema.getPossibleTypes(parent)) result.set(t.name, null);
        return;
      }
      if (!result.has(parent.name)) result.set(parent.name, new Set());
      result.get(parent.name)?.add(node.name.value);
    },
  });
  visit(info.operation, visitor);
  for (const fragment of Object.values(info.fragments)) visit(fragment, visitor);
  out = result;
  byOperation.set(info.operation, out);
  return out;
}

/** The GraphQL object type name of an entity class. */
export function typeNameOf(entity: Function): string {
  const name = objectTypeName(entity);
  if (!name) throw new Error(`${entity.name} is no GraphQL object type`);
  return name;
}

let resolvedFields: Map<string, Set<string>> | undefined;
/** Fields that type-graphql resolves by a method or getter (not by reading a property of the same name). */
function computedFields(typeName: string): Set<string> {
  if (!resolvedFields) {
    const names = objectTypeNames();
    resolvedFields = new Map();
    for (const f of fieldResolverDeclarations()) {
      const name = names.get(f.objectClass as Function);
      if (!name) continue;
      if (!resolvedFields.has(name)) resolvedFields.set(name, new Set());
      resolvedFields.get(name)!.add(f.field);
    }
  }
  return resolvedFields.get(typeName) ?? new Set();
}

/**
 * The entity properties the request needs of records of GraphQL type `typeName` (whose column
 * properties are `columns`), or null for all of them.
 */
export function columnsNeeded(info: GraphQLResolveInfo, typeName: string, columns: ReadonlySet<string>): ReadonlySet<string> | null {
  const sel = selected(info);
  if (!sel.has(typeName)) return new Set(['id', 'workspaceId']);
  const fields = sel.get(typeName);
  if (!fields) return null;
  const computed = computedFields(typeName);
  const needs = new Set(['id', 'workspaceId']);
  for (const f of fields) {
    if (f === '__typename') continue;
    const declared = FIELD_NEEDS[typeName]?.[f];
    if (declared) declared.forEach((p) => needs.add(p));
    else if (columns.has(f) && !computed.has(f)) needs.add(f);
    else return null;
  }
  return needs;
}
