import { randomUUID } from 'node:crypto';
import type { ServiceContext } from '../../data/context';
import { badField } from '../../kernel/errors';
import { requireAdmin } from '../../kernel/viewer';
import { FILTERABLE, type RecordFilterService, referencedCustomFields } from '../common/record-filter';
import { getAdminRecord, insertRecord, listAdminRecords, lockRecord, type StoreSpec, updateRecord } from '../../data/record-store';
import type { NotificationService } from '../notifications/notification.service';
import { checkPatterns } from '../events/event-patterns';
import { blockedLiteral } from './ssrf-guard';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { newWebhookSecret } from './webhook-signature';
import type { UpdateWebhookEndpointInput, WebhookEndpointInput, WebhookEndpointWithSecret } from './webhook.types';

/** After a rotation, the previous secret signs too for this long, so that receivers can switch over. */
const ROTATION_OVERLAP_MS = 24 * 3600_000;

export const WEBHOOK_ENDPOINT_STORE: StoreSpec<WebhookEndpoint> = {
  table: 'webhook_endpoint',
  entity: WebhookEndpoint,
  entityType: 'webhook_endpoint',
  label: 'Webhook endpoint',
  trackedFields: ['url', 'events', 'filter', 'description', 'active', 'disabledReason', 'previousSecretExpiresAt', 'deletedAt'],
  // Never the secrets.
  toData: (e) => ({
    id: e.id,
    url: e.url,
    events: e.events,
    filter: e.filter,
    description: e.description,
    active: e.active,
    disabledReason: e.disabledReason,
    previousSecretExpiresAt: e.previousSecretExpiresAt?.toISOString() ?? null,
    deletedAt: e.deletedAt?.toISOString() ?? null,
  }),
};

/** Turns a JSON filter into the entity's typed filter (see coerceFilter), given the filter type's name. */
export type FilterCoercer = (graphqlType: string, value: unknown) => Record<string, unknown>;

/** Webhook endpoints are configured by ADMIN users; every change is an event, without the secrets. */
export class WebhookEndpointService {
  constructor(
    private readonly filters: RecordFilterService,
    private readonly notifications: NotificationService,
    private readonly allowPrivateNetworks: boolean,
  ) {}

  list(ctx: ServiceContext): Promise<WebhookEndpoint[]> {
    return listAdminRecords(ctx, WEBHOOK_ENDPOINT_STORE);
  }

  get(ctx: ServiceContext, id: string): Promise<WebhookEndpoint> {
    return getAdminRecord(ctx, WEBHOOK_ENDPOINT_STORE, id);
  }

  async create(ctx: ServiceContext, input: WebhookEndpointInput, coerce: FilterCoercer): Promise<WebhookEndpointWithSecret> {
    requireAdmin(ctx.viewer);
    const url = this.checkUrl(input.url, 'input.url');
    const events = checkPatterns(input.events, 'input.events');
    const filter = await this.checkFilter(ctx, events, input.filter ?? null, coerce);
    const secret = newWebhookSecret();
    const endpoint = await ctx.tx.savepoint(
      async () =>
        (
          await insertRecord(
            ctx,
            WEBHOOK_ENDPOINT_STORE,
            {
              url,
              events,
              filter,
              description: input.description?.trim() || null,
              secret,
              active: true,
              createdById: ctx.viewer.userId,
            },
            randomUUID(),
          )
        ).record,
    );
    return { endpoint, secret };
  }

  async update(
    ctx: ServiceContext,
    id: string,
    input: UpdateWebhookEndpointInput,
    coerce: FilterCoercer,
    expectedVersion?: number | null,
  ): Promise<WebhookEndpoint> {
    const current = await this.get(ctx, id);
    const patch: Record<string, unknown> = {};
    if (input.url !== undefined) patch.url = this.checkUrl(input.url, 'input.url');
    if (input.events !== undefined) patch.events = checkPatterns(input.events, 'input.events');
    if (input.description !== undefined) patch.description = input.description?.trim() || null;
    if (input.filter !== undefined || input.events !== undefined) {
      patch.filter = await this.checkFilter(
        ctx,
        (patch.events as string[]) ?? current.events,
        input.filter !== undefined ? input.filter : current.filter,
        coerce,
      );
    }
    if (input.active != null) {
      patch.active = input.active;
      if (input.active) Object.assign(patch, { disabledReason: null, failingSince: null });
      else patch.disabledReason = 'disabled by hand';
    }
    return ctx.tx.savepoint(async () => {
      const locked = await lockRecord(ctx, WEBHOOK_ENDPOINT_STORE, current.id);
      return (await updateRecord(ctx, WEBHOOK_ENDPOINT_STORE, id, patch, { expectedVersion }, locked)).record;
    });
  }

  /** Deleted endpoints send nothing more; their deliveries stay in the log. */
  async delete(ctx: ServiceContext, id: string): Promise<WebhookEndpoint> {
    const current = await this.get(ctx, id);
    return ctx.tx.savepoint(async () => {
      const locked = await lockRecord(ctx, WEBHOOK_ENDPOINT_STORE, current.id);
      return (await updateRecord(ctx, WEBHOOK_ENDPOINT_STORE, id, { deletedAt: new Date(), active: false }, { eventType: 'webhook_endpoint.deleted' }, locked))
        .record;
    });
  }

  /** A new secret; the previous one keeps signing beside it for 24 hours. */
  async rotateSecret(ctx: ServiceContext, id: string): Promise<WebhookEndpointWithSecret> {
    await this.get(ctx, id);
    const secret = newWebhookSecret();
    const endpoint = await ctx.tx.savepoint(async () => {
      const locked = await lockRecord(ctx, WEBHOOK_ENDPOINT_STORE, id);
      return (
        await updateRecord(
          ctx,
          WEBHOOK_ENDPOINT_STORE,
          id,
          { secret, previousSecret: locked.secret, previousSecretExpiresAt: new Date(Date.now() + ROTATION_OVERLAP_MS) },
          { eventType: 'webhook_endpoint.secret_rotated', always: true },
          locked,
        )
      ).record;
    });
    return { endpoint, secret };
  }

  /** Disables an endpoint on the system's behalf (410 Gone, days of failures) and tells the workspace's admins. */
  async disable(ctx: ServiceContext, id: string, reason: string): Promise<void> {
    const locked = await lockRecord(ctx, WEBHOOK_ENDPOINT_STORE, id);
    if (!locked.active) return;
    await updateRecord(ctx, WEBHOOK_ENDPOINT_STORE, id, { active: false, disabledReason: reason }, { eventType: 'webhook_endpoint.disabled' }, locked);
    await this.notifications.notifyAdmins(ctx, {
      title: `Webhook endpoint disabled: ${locked.url}`,
      body: reason,
      entityType: 'webhook_endpoint',
      entityId: id,
    });
  }

  /** The live endpoints whose filter names custom field `key` of `entityType` (each as `webhook endpoint <id>`). */
  async customFieldUsers(ctx: ServiceContext, entityType: string, key: string): Promise<string[]> {
    const rows = await ctx.tx.query<{ id: string; events: string[]; filter: Record<string, unknown> }>(
      `SELECT id, events, filter FROM webhook_endpoint WHERE workspace_id = $1 AND deleted_at IS NULL AND filter IS NOT NULL`,
      [ctx.tx.workspaceId],
    );
    return rows.filter((e) => referencedCustomFields(filterEntity(e.events), e.filter).includes(`${entityType}.${key}`)).map((e) => `webhook endpoint ${e.id}`);
  }

  private checkUrl(value: string, field: string): string {
    let url: URL;
    try {
      url = new URL(value.trim());
    } catch {
      throw badField(field, 'is not a URL');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.allowPrivateNetworks)) throw badField(field, 'must be an https URL');
    if (url.username || url.password) throw badField(field, 'must not hold credentials (use the signature to authenticate Trellis)');
    if (blockedLiteral(url, this.allowPrivateNetworks)) throw badField(field, 'is a private or reserved address');
    return url.toString();
  }

  private async checkFilter(
    ctx: ServiceContext,
    events: string[],
    filter: Record<string, unknown> | null,
    coerce: FilterCoercer,
  ): Promise<Record<string, unknown> | null> {
    if (filter == null) return null;
    const entity = filterEntity(events);
    if (!entity || !FILTERABLE[entity]) {
      throw badField('input.filter', `a filter needs every event pattern to name one of ${Object.keys(FILTERABLE).join(', ')} (e.g. opportunity.*)`);
    }
    const typed = coerce(FILTERABLE[entity].graphqlType, filter);
    await this.filters.check(ctx.tx, entity, typed);
    return typed;
  }
}

/** The one kind of record an endpoint's events are about (what its filter applies to), or null. */
function filterEntity(events: string[]): string | null {
  const entities = new Set(events.map((p) => p.split('.')[0]));
  const entity = entities.size === 1 ? [...entities][0] : null;
  return entity === '*' ? null : entity;
}
