import type { Received } from './receiver';
import type { SignedUp, TestApp } from './app';

// Shared by the webhook reliability tests.

export const CREATE_ENDPOINT = `mutation($i: WebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret endpoint { id } } }`;
export const CREATE_ACCOUNT = `mutation($i: CreateAccountInput!) { createAccount(input: $i) { id } }`;
export const UPDATE_ACCOUNT = `mutation($id: ID!, $i: UpdateAccountInput!) { updateAccount(id: $id, input: $i) { id } }`;
export const DELETE_ENDPOINT = `mutation($id: ID!) { deleteWebhookEndpoint(id: $id) { id } }`;

export interface DeliveryRow {
  id: string;
  event_id: string;
  entity_id: string;
  status: string;
  attempts: number;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
}

/** Polls `check` until it holds (or fails with `what` after `ms`). */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An endpoint's deliveries (read as the superuser), in event commit order. */
export const deliveries = (t: TestApp, endpointId: string) =>
  t.sql<DeliveryRow>(
    `SELECT id, event_id::text, entity_id, status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error, last_duration_ms
     FROM webhook_delivery WHERE endpoint_id = $1 ORDER BY event_tx, event_id`,
    [endpointId],
  );

/** Registers an endpoint (for `account.*` unless said otherwise) and returns its id. */
export async function createEndpoint(t: TestApp, admin: SignedUp, input: Record<string, unknown>): Promise<string> {
  const r = await t.gql(CREATE_ENDPOINT, { i: { events: ['account.*'], ...input } }, admin.accessToken);
  expect(r.errors).toBeUndefined();
  return r.data.createWebhookEndpoint.endpoint.id;
}

export async function createAccount(t: TestApp, admin: SignedUp, name: string): Promise<string> {
  const r = await t.gql(CREATE_ACCOUNT, { i: { name } }, admin.accessToken);
  expect(r.errors).toBeUndefined();
  return r.data.createAccount.id;
}

export async function updateAccount(t: TestApp, admin: SignedUp, id: string, input: Record<string, unknown>): Promise<void> {
  const r = await t.gql(UPDATE_ACCOUNT, { id, i: input }, admin.accessToken);
  expect(r.errors).toBeUndefined();
}

/** The workspace's account event ids in commit order, per record. */
export async function eventsByRecord(t: TestApp, workspaceId: string): Promise<Map<string, string[]>> {
  const rows = await t.sql<{ id: string; entity_id: string }>(
    `SELECT id::text, entity_id FROM event WHERE workspace_id = $1 AND entity_type = 'account' ORDER BY tx_id, id`,
    [workspaceId],
  );
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.entity_id, [...(out.get(r.entity_id) ?? []), r.id]);
  return out;
}

/** The webhook-ids a receiver got, per record, in arrival order. */
export function receivedByRecord(received: Received[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of received) out.set(r.json.data.entityId, [...(out.get(r.json.data.entityId) ?? []), String(r.headers['webhook-id'])]);
  return out;
}

/** Consecutive repeats collapsed: [a, a, b, a] -> [a, b, a]. */
export const collapse = (ids: string[]) => ids.filter((id, i) => i === 0 || ids[i - 1] !== id);
