import type { ServiceContext } from '../../data/context';
import { SortDirection } from '../../data/connection';
import { badField, conflict } from '../../kernel/errors';
import { EntityType } from '../../graphql/enums';
import { CrudService } from '../common/crud.service';
import { updateRecord } from '../../data/record-store';
import type { CustomFieldService } from '../custom-fields/custom-field.service';
import { type Activity, ActivityStatus } from './activity.entity';
import { activityUpsert } from './activity.upsert';
import { ACTIVITY_SPEC, ACTIVITY_STORE } from './activity.descriptor';
import type { CreateActivityInput, UpdateActivityInput } from './activity.types';

/** The records an activity is about. */
const ACTIVITY_REFERENCES = {
  accountId: { table: 'account', label: 'account' },
  contactId: { table: 'contact', label: 'contact' },
  leadId: { table: 'lead', label: 'lead' },
  opportunityId: { table: 'opportunity', label: 'opportunity' },
};

export class ActivityService extends CrudService<Activity> {
  constructor(customFields: CustomFieldService) {
    super(
      {
        store: ACTIVITY_STORE,
        spec: ACTIVITY_SPEC,
        defaultOrder: [{ field: 'CREATED_AT', direction: SortDirection.DESC }],
        owned: true,
        references: ACTIVITY_REFERENCES,
        customFields: EntityType.ACTIVITY,
        upsert: activityUpsert(),
      },
      customFields,
    );
  }

  create(ctx: ServiceContext, input: CreateActivityInput): Promise<Activity> {
    return this.createOne(ctx, input);
  }

  update(ctx: ServiceContext, id: string, input: UpdateActivityInput, expectedVersion?: number | null): Promise<Activity> {
    return this.updateOne(ctx, id, input, expectedVersion);
  }

  /** Marks a task (or any open activity) done: `activity.completed`. Completing it again is CONFLICT. */
  async complete(ctx: ServiceContext, id: string): Promise<Activity> {
    return this.write(ctx, async () => {
      const current = await this.lock(ctx, id);
      if (current.status === ActivityStatus.COMPLETED) throw conflict('This activity is already completed');
      if (current.status === ActivityStatus.CANCELLED) throw badField('id', 'a cancelled activity cannot be completed');
      return (await this.patchLocked(ctx, current, { status: ActivityStatus.COMPLETED, completedAt: new Date() }, null, 'activity.completed')).record;
    });
  }

  /** After a lead conversion its activities concern the new contact, account and opportunity too. */
  async moveFromLead(ctx: ServiceContext, leadId: string, to: { accountId: string; contactId: string; opportunityId: string | null }): Promise<void> {
    const rows = await ctx.tx.query<{ id: string }>(
      'SELECT id FROM activity WHERE workspace_id = $1 AND lead_id = $2 AND deleted_at IS NULL ORDER BY created_at, id FOR UPDATE',
      [ctx.tx.workspaceId, leadId],
    );
    // The conversion was permitted on the lead; its activities follow whoever owns them.
    for (const { id } of rows) {
      const current = await this.lock(ctx, id);
      await updateRecord(
        ctx,
        ACTIVITY_STORE,
        id,
        {
          contactId: current.contactId ?? to.contactId,
          accountId: current.accountId ?? to.accountId,
          opportunityId: current.opportunityId ?? to.opportunityId,
        },
        {},
        current,
      );
    }
  }
}
