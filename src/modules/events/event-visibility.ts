import { isAdmin, type Viewer } from '../../kernel/viewer';
import type { RecordKind } from '../record-kind';
import { RECORD_KINDS } from '../registry';

/**
 * Who may read which events: the one rule behind the change feed, `recordChanged`, the timeline and
 * webhooks. An event carries its record's data, so it may show a viewer only what the viewer could
 * read through that record's own query:
 * - API keys, webhook endpoints, automation rules and their runs are listed by ADMIN-only queries
 *   (`apiKeys`, `webhookEndpoints`, `automationRules`, `automationRuns`): their events are the ADMIN's;
 * - a notification is its recipient's (`notifications` lists one's own inbox, even for an ADMIN);
 * - a user's sign-ins and tokens (log-in, refresh, reuse, log-out, sessions revoked) are the ADMIN's and that user's;
 * - everything else (records, users, teams, pipelines, custom field definitions, import jobs, the
 *   workspace) every role and every READ key reads through its queries.
 * Each kind's descriptor says which (`eventReaders`); a kind no descriptor names is ADMIN-only: a new kind fails closed.
 */
export interface EventReader {
  /** An ADMIN user (API keys never are: their scopes are READ and WRITE). */
  readonly admin: boolean;
  /** The user reading (for their own notifications and security events); null for an API key. */
  readonly userId: string | null;
}

/** The reader a viewer is. */
export const readerOf = (viewer: Viewer): EventReader => ({ admin: isAdmin(viewer), userId: viewer.kind === 'USER' ? viewer.userId : null });

/**
 * A webhook endpoint reads as the workspace's ADMIN who set it up, but as no particular user: it
 * gets the ADMIN's kinds (whose events never hold a secret: see each store's toData) and nobody's inbox.
 */
export const WEBHOOK_READER: EventReader = { admin: true, userId: null };

/** The kinds whose events every reader gets, and those that are their recipient's alone (from the kinds' descriptors). */
const readersOf = (who: RecordKind['eventReaders']) => RECORD_KINDS.filter((k) => k.eventReaders === who).map((k) => k.entityType);
const EVERY_READER = new Set(readersOf('everyone'));
const RECIPIENT_ONLY = readersOf('recipient');
const SECURITY_EVENTS = new Set(['user.logged_in', 'user.logged_out', 'user.token_refreshed', 'user.refresh_token_reused', 'user.sessions_revoked']);

/** The fields of an event the rule looks at. */
interface EventKind {
  type: string;
  entityType: string;
  entityId: string;
  data: Record<string, unknown> | null;
}

/** The rule, for events already read (the live stream of subscriptions, the webhook dispatcher). */
export function canReadEvent(reader: EventReader, e: EventKind): boolean {
  if (RECIPIENT_ONLY.includes(e.entityType)) return reader.userId !== null && e.data?.userId === reader.userId;
  if (SECURITY_EVENTS.has(e.type)) return reader.admin || e.entityId === reader.userId;
  return reader.admin || EVERY_READER.has(e.entityType);
}

/**
 * The same rule as a SQL condition on the event table aliased `alias`, for queries that page events:
 * filtered in the query, a page is full and its cursor exact. `param` binds a value and returns its placeholder.
 */
export function readableEventsSql(reader: EventReader, alias: string, param: (value: unknown) => string): string {
  const { userId } = reader;
  const recipient = userId === null ? 'false' : `${alias}.data->>'userId' = ${param(userId)}::text`;
  const security = `${alias}.type = ANY(${param([...SECURITY_EVENTS])}::text[])`;
  const ownSecurity = reader.admin ? 'true' : userId === null ? 'false' : `${alias}.entity_id = ${param(userId)}::uuid`;
  const kind = reader.admin ? 'true' : `${alias}.entity_type = ANY(${param([...EVERY_READER])}::text[])`;
  return `(CASE WHEN ${alias}.entity_type = ANY(${param(RECIPIENT_ONLY)}::text[]) THEN ${recipient} WHEN ${security} THEN ${ownSecurity} ELSE ${kind} END)`;
}
