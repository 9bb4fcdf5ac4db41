import { validate } from 'class-validator';
import { isUuid } from '../../../db/tenant-transaction';
import { badField, badInput, flattenValidation } from '../../../kernel/errors';
import { coerceFilter } from '../../../data/json-filter';
import { ActivityType, type Activity } from '../../activities/activity.entity';
import type { ActivityService } from '../../activities/activity.service';
import type { CreateActivityInput } from '../../activities/activity.types';
import { renderTemplate, checkTemplate } from '../templates';
import type { ActionHandler, CheckEnv, RunEnv } from './action';

const DAY_MS = 86_400_000;

/** `OWNER` (the record's owner) or a user id, checked to be an active user of the workspace. */
export async function checkUserRef(value: unknown, env: CheckEnv, field: string, allowed: string[]): Promise<string> {
  if (typeof value === 'string' && allowed.includes(value)) {
    if (value === 'OWNER' && !env.access) throw badField(field, 'OWNER needs a trigger about records');
    if (value === 'OWNER' && !env.recordFields?.has('ownerId'))
      throw badField(field, `OWNER needs records that have an owner (a ${env.access?.entityType} has none)`);
    return value;
  }
  if (!isUuid(value)) throw badField(field, `must be ${allowed.join(', ')} or a user id`);
  const [u] = await env.tx.query(`SELECT 1 FROM app_user WHERE workspace_id = $1 AND id = $2 AND active AND deleted_at IS NULL`, [env.tx.workspaceId, value]);
  if (!u) throw badField(field, 'no such active user');
  return value;
}

/** The user a checked reference points to for this run (null: the record has no owner). */
export const resolveUser = (ref: string, env: RunEnv): string | null => (ref === 'OWNER' ? (env.record?.ownerId ?? null) : ref);

interface TaskParams {
  subject: string;
  body: string | null;
  /** OWNER, a user id, or null (not given: the record's owner, if it has one). */
  assignee: string | null;
  dueInDays: number | null;
}

/** CREATE_TASK: a TASK activity on the record, with templated subject and body, an assignee and a due date. */
export function createTask(activities: ActivityService): ActionHandler<TaskParams> {
  return {
    async check(p, env) {
      const scope = { recordFields: env.templateFields };
      const dueInDays = p.dueInDays ?? null;
      if (dueInDays !== null && !(Number.isInteger(dueInDays) && (dueInDays as number) >= 0 && (dueInDays as number) <= 3650)) {
        throw badField(`${env.path}.dueInDays`, 'must be a whole number of days from 0 to 3650');
      }
      return {
        subject: checkTemplate(p.subject, scope, `${env.path}.subject`)!,
        body: checkTemplate(p.body, scope, `${env.path}.body`, false),
        assignee: p.assignee == null ? null : await checkUserRef(p.assignee, env, `${env.path}.assignee`, ['OWNER']),
        dueInDays: dueInDays as number | null,
      };
    },
    async run(env, p) {
      const input = {
        type: ActivityType.TASK,
        subject: renderTemplate(p.subject, env.view).slice(0, 500),
        body: p.body ? renderTemplate(p.body, env.view) : undefined,
        ownerId: resolveUser(p.assignee ?? 'OWNER', env) ?? undefined,
        dueAt: p.dueInDays != null ? new Date(Date.now() + p.dueInDays * DAY_MS) : undefined,
        ...(env.access?.activityLink && env.record ? { [env.access.activityLink]: env.record.id } : {}),
      };
      const details = { subject: input.subject, assigneeId: input.ownerId ?? null, dueAt: input.dueAt?.toISOString() ?? null };
      if (env.dryRun) return { summary: `would create the task "${input.subject}"`, details };
      const task: Activity = await activities.create(env.ctx, input as CreateActivityInput);
      return { summary: `created the task "${input.subject}"`, details: { ...details, activityId: task.id } };
    },
  };
}

/**
 * UPDATE_FIELDS: sets fields of the record, checked as the entity's update input (types, formats),
 * and the records it names by id (an owner, an account, a stage...) checked to exist in the workspace.
 */
export function updateFields(inputClasses: Record<string, new () => object>): ActionHandler<{ fields: Record<string, unknown> }> {
  return {
    async check(p, env) {
      if (!env.access) throw badField(env.path, 'UPDATE_FIELDS needs a trigger about records');
      if (p.fields === null || typeof p.fields !== 'object' || Array.isArray(p.fields) || !Object.keys(p.fields).length) {
        throw badField(`${env.path}.fields`, 'must be an object of the fields to set');
      }
      const fields = coerceFilter(env.schema, env.access.updateInputType, p.fields, `${env.path}.fields`);
      const errors = await validate(Object.assign(new inputClasses[env.access.entityType](), fields), { forbidUnknownValues: false });
      if (errors.length) throw badInput(flattenValidation(errors, `${env.path}.fields`));
      await env.access.checkReferences(env.tx, fields, `${env.path}.fields`);
      return { fields };
    },
    async run(env, p) {
      const summary = `${Object.keys(p.fields).join(', ')} of the ${env.access!.entityType}`;
      if (env.dryRun) return { summary: `would set ${summary}`, details: { fields: p.fields } };
      // Dates arrive as JSON strings; the services take Date objects for DateTime fields.
      const fields = Object.fromEntries(Object.entries(p.fields).map(([k, v]) => [k, typeof v === 'string' && /At$/.test(k) ? new Date(v) : v]));
      await env.access!.update(env.ctx, env.record!.id, fields);
      return { summary: `set ${summary}`, details: { fields: p.fields } };
    },
  };
}
