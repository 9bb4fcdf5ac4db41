import { CreateActivityInput, UpdateActivityInput, UpsertActivityInput } from './activity.types';
import { MatchOn } from '../../graphql/batch.types';
import { EntityType } from '../../graphql/enums';
import { externalIdMatch, type Prepared, type UpsertConfig } from '../../data/upsert';
import { ownerRule, resolveRefs } from '../../data/upsert-refs';
import { trimOrNull } from '../../data/values';
import { type Activity, ActivityStatus, ActivityType } from './activity.entity';
import { ACTIVITY_STORE } from './activity.descriptor';

/** A reference by id or by the other record's externalId. */
const related = (
  target: 'accountId' | 'contactId' | 'leadId' | 'opportunityId',
  table: string,
  field: 'accountExternalId' | 'contactExternalId' | 'leadExternalId' | 'opportunityExternalId',
) => ({
  target,
  table,
  label: table,
  byId: (i: UpsertActivityInput) => i[target],
  byKey: [field, 'external_id', false, (i: UpsertActivityInput) => i[field]] as [string, string, boolean, (i: UpsertActivityInput) => string | undefined],
});

export function activityUpsert(): UpsertConfig<Activity, UpsertActivityInput> {
  return {
    store: ACTIVITY_STORE,
    owned: true,
    customFields: EntityType.ACTIVITY,
    required: ['type', 'subject'],
    match: { [MatchOn.EXTERNAL_ID]: externalIdMatch() },
    async prepare(ctx, inputs) {
      const refs = await resolveRefs(ctx, inputs, [
        ownerRule(),
        related('accountId', 'account', 'accountExternalId'),
        related('contactId', 'contact', 'contactExternalId'),
        related('leadId', 'lead', 'leadExternalId'),
        related('opportunityId', 'opportunity', 'opportunityExternalId'),
      ]);
      return inputs.map((i, n) => {
        const r = refs[n];
        if (Array.isArray(r)) return r;
        const open = i.type === ActivityType.TASK || (i.dueAt && i.dueAt.getTime() > Date.now());
        const status = i.status ?? (i.completedAt ? ActivityStatus.COMPLETED : undefined);
        const prepared: Prepared = {
          createDefaults: { status: open ? ActivityStatus.OPEN : ActivityStatus.COMPLETED },
          values: {
            ...activityValues(i),
            type: i.type,
            status,
            completedAt: i.completedAt,
            accountId: r.accountId,
            contactId: r.contactId,
            leadId: r.leadId,
            opportunityId: r.opportunityId,
            ownerId: r.ownerId,
          },
        };
        return prepared;
      });
    },

    /** The completion time follows the status: set when it becomes COMPLETED (to the time given, else now), cleared when it leaves it. */
    adjust(_ctx, before, _prepared, values) {
      if (before && (values.status === undefined || values.status === before.status)) return;
      values.completedAt = values.status === ActivityStatus.COMPLETED ? ((values.completedAt as Date | null | undefined) ?? new Date()) : null;
    },

    /** Completing an activity is `activity.completed`, whichever way in. */
    updateEventType: (before, after) =>
      after.status === ActivityStatus.COMPLETED && before.status !== ActivityStatus.COMPLETED ? 'activity.completed' : undefined,
  };
}

/** An activity input's values, normalised: the same for a single write and an upsert (type, status and completion have rules of their own). */
const activityValues = (i: CreateActivityInput | UpdateActivityInput) => ({
  subject: i.subject?.trim(),
  body: i.body,
  dueAt: i.dueAt,
  durationSeconds: i.durationSeconds,
  outcome: trimOrNull(i.outcome),
  accountId: i.accountId,
  contactId: i.contactId,
  leadId: i.leadId,
  opportunityId: i.opportunityId,
  externalId: trimOrNull(i.externalId),
  ownerId: i.ownerId,
  customFields: i.customFields,
});
