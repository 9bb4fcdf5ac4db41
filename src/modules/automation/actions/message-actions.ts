import { randomUUID } from 'node:crypto';
import { isEmail } from 'class-validator';
import { badField } from '../../../kernel/errors';
import { ActivityType } from '../../activities/activity.entity';
import type { ActivityService } from '../../activities/activity.service';
import type { CreateActivityInput } from '../../activities/activity.types';
import type { NotificationService } from '../../notifications/notification.service';
import { blockedLiteral } from '../../webhooks/ssrf-guard';
import { checkTemplate, renderTemplate } from '../templates';
import { type AutomationWebhookCalls, webhookIdOf } from '../webhook-calls';
import { type ActionHandler, type RunEnv, str } from './action';
import type { Mailer } from './mailer';
import { checkUserRef, resolveUser } from './record-actions';

interface EmailParams {
  to: string;
  subject: string;
  body: string;
}

/**
 * SEND_EMAIL: to the record's owner (OWNER), the record's own address (RECORD: a contact's or a
 * lead's email) or a fixed address. Kept in the sent-mail log and as an EMAIL activity on the record
 * in the run's transaction; the SMTP send itself follows the commit.
 *
 * At most `perDay` emails per workspace in any 24 hours (AUTOMATION_EMAILS_PER_DAY): a rule on web
 * leads sends whatever anyone posts to the public intake, and the cap keeps that from making the
 * workspace's SMTP a relay. Past it the action fails, and the run with it, saying why.
 */
export function sendEmail(activities: ActivityService, mailer: Mailer, perDay: number): ActionHandler<EmailParams> {
  return {
    check(p, env) {
      const scope = { recordFields: env.templateFields };
      const to = p.to;
      if (to === 'RECORD' && !env.access?.emailField) throw badField(`${env.path}.to`, 'RECORD needs a trigger about contacts or leads');
      if (to === 'OWNER' && !env.access) throw badField(`${env.path}.to`, 'OWNER needs a trigger about records');
      if (to === 'OWNER' && !env.recordFields?.has('ownerId'))
        throw badField(`${env.path}.to`, `OWNER needs records that have an owner (a ${env.access?.entityType} has none)`);
      if (to !== 'OWNER' && to !== 'RECORD' && !(str(to) && isEmail(to))) throw badField(`${env.path}.to`, 'must be OWNER, RECORD or an email address');
      return { to, subject: checkTemplate(p.subject, scope, `${env.path}.subject`)!, body: checkTemplate(p.body, scope, `${env.path}.body`)! };
    },
    async run(env, p) {
      const recipient = await recipientOf(env, p.to);
      const subject = renderTemplate(p.subject, env.view).slice(0, 500);
      const body = renderTemplate(p.body, env.view);
      const details = { to: recipient, subject, body };
      if (env.dryRun) return { summary: `would email ${recipient}: "${subject}"`, details };
      const { tx } = env.ctx;
      await withinDailyCap(env, perDay);
      let activityId: string | null = null;
      if (env.access?.activityLink && env.record) {
        const input = { type: ActivityType.EMAIL, subject, body, [env.access.activityLink]: env.record.id, ownerId: env.record.ownerId ?? undefined };
        activityId = (await activities.create(env.ctx, input as CreateActivityInput)).id;
      }
      const id = randomUUID();
      await tx.query(
        `INSERT INTO sent_email (workspace_id, id, rule_id, recipient, subject, body, entity_type, entity_id, activity_id, transport)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          tx.workspaceId,
          id,
          env.rule.id,
          recipient,
          subject,
          body,
          env.access?.entityType ?? null,
          env.record?.id ?? null,
          activityId,
          mailer.configured ? 'SMTP' : 'LOG',
        ],
      );
      if (mailer.configured) env.afterCommit(() => void mailer.send(recipient, subject, body).catch(() => undefined));
      return { summary: `emailed ${recipient}: "${subject}"`, details: { ...details, sentEmailId: id, activityId } };
    },
  };
}

async function withinDailyCap(env: RunEnv, perDay: number): Promise<void> {
  const { tx } = env.ctx;
  // Runs of one workspace count and send one at a time (until each commits), so that runs in
  // parallel, on any instance, cannot each see room for the last email.
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`${tx.workspaceId}:sent_email:daily-cap`]);
  const [{ sent }] = await tx.query<{ sent: number }>(
    `SELECT count(*)::int AS sent FROM sent_email WHERE workspace_id = $1 AND created_at > now() - interval '24 hours'`,
    [tx.workspaceId],
  );
  if (sent >= perDay) throw new Error(`the workspace's daily cap of ${perDay} automation emails (AUTOMATION_EMAILS_PER_DAY) is reached: not sent`);
}

async function recipientOf(env: RunEnv, to: string): Promise<string> {
  if (to === 'RECORD') {
    const address = env.record?.[env.access!.emailField!];
    if (!str(address) || !address) throw new Error(`the ${env.access!.entityType} has no email address`);
    return address;
  }
  if (to !== 'OWNER') return to;
  const ownerId = env.record?.ownerId;
  if (!ownerId) throw new Error(`the ${env.access!.entityType} has no owner to email`);
  const { tx } = env.ctx;
  const [u] = await tx.query<{ email: string }>(`SELECT email FROM app_user WHERE workspace_id = $1 AND id = $2`, [tx.workspaceId, ownerId]);
  return u.email;
}

interface NotifyParams {
  to: string;
  title: string;
  body: string | null;
}

/** NOTIFY: an in-app notification (pushed through `notificationReceived`) to the owner, the admins or a user. */
export function notify(notifications: NotificationService): ActionHandler<NotifyParams> {
  return {
    async check(p, env) {
      const scope = { recordFields: env.templateFields };
      return {
        to: await checkUserRef(p.to ?? 'OWNER', env, `${env.path}.to`, ['OWNER', 'ADMINS']),
        title: checkTemplate(p.title, scope, `${env.path}.title`)!,
        body: checkTemplate(p.body, scope, `${env.path}.body`, false),
      };
    },
    async run(env, p) {
      const { tx } = env.ctx;
      const users =
        p.to === 'ADMINS'
          ? (
              await tx.query<{ id: string }>(`SELECT id FROM app_user WHERE workspace_id = $1 AND role = 'ADMIN' AND active AND deleted_at IS NULL`, [
                tx.workspaceId,
              ])
            ).map((u) => u.id)
          : [resolveUser(p.to, env)].filter((u): u is string => !!u);
      if (!users.length) throw new Error('nobody to notify (the record has no owner)');
      const title = renderTemplate(p.title, env.view).slice(0, 200);
      const body = p.body ? renderTemplate(p.body, env.view) : null;
      if (env.dryRun) return { summary: `would notify ${users.length} user(s): "${title}"`, details: { userIds: users, title, body } };
      await notifications.send(
        env.ctx,
        users.map((userId) => ({ userId, title, body, entityType: env.access?.entityType ?? null, entityId: env.record?.id ?? null })),
      );
      return { summary: `notified ${users.length} user(s): "${title}"`, details: { userIds: users, title, body } };
    },
  };
}

interface CallParams {
  url: string;
  secret: string;
}

/**
 * CALL_WEBHOOK: one signed POST (Standard Webhooks headers, the rule's secret), made after the run
 * commits (never while its transaction holds a connection and locks). The run records the call as
 * pending; the POST and the record of its outcome follow the commit (see AutomationWebhookCalls: a
 * call cut off by a crash is made again, with the same webhook-id). A failed answer is not retried:
 * the run is FAILED, its other actions kept.
 */
export function callWebhook(calls: AutomationWebhookCalls, allowPrivateNetworks: boolean): ActionHandler<CallParams> {
  return {
    check(p, env) {
      let url: URL;
      try {
        url = new URL(String(p.url));
      } catch {
        throw badField(`${env.path}.url`, 'is not a URL');
      }
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowPrivateNetworks)) throw badField(`${env.path}.url`, 'must be an https URL');
      if (blockedLiteral(url, allowPrivateNetworks)) throw badField(`${env.path}.url`, 'is a private or reserved address');
      if (!str(p.secret) || !/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(p.secret))
        throw badField(`${env.path}.secret`, 'must be a whsec_ secret (base64 of at least 24 bytes)');
      return { url: url.toString(), secret: p.secret };
    },
    async run(env, p) {
      const body = JSON.stringify({
        type: 'automation.webhook',
        timestamp: new Date().toISOString(),
        data: { ruleId: env.rule.id, ruleName: env.rule.name, event: env.event ? { id: env.event.id, type: env.event.type } : null, record: env.record },
      });
      if (env.dryRun || !env.runId) return { summary: `would POST to ${p.url}`, details: { url: p.url } };
      const call = await calls.stage(env.ctx.tx, {
        runId: env.runId,
        ruleId: env.rule.id,
        depth: env.ctx.actor.depth ?? 0,
        url: p.url,
        secret: p.secret,
        body,
      });
      env.afterCommit(() => calls.make(call));
      return {
        pending: true,
        summary: `POST to ${p.url} once the run has committed`,
        details: { url: p.url, webhookId: webhookIdOf(call.id), statusCode: null },
      };
    },
  };
}
