import { IsEmail, IsOptional, IsString, Length, MaxLength, validate } from 'class-validator';
import type { DataSource } from 'typeorm';
import type { ServiceContext } from '../../data/context';
import { flattenValidation, type FieldError } from '../../kernel/errors';
import { inWorkspace } from '../../db/tenant-transaction';
import { ActivityType } from '../activities/activity.entity';
import type { ActivityService } from '../activities/activity.service';
import type { CreateActivityInput } from '../activities/activity.types';
import { systemViewer, SYSTEM_ACTOR } from '../../kernel/viewer';
import { LeadSource } from '../leads/lead.entity';
import type { LeadService } from '../leads/lead.service';
import type { CreateLeadInput } from '../leads/lead.types';
import { ApiScope } from '../../kernel/roles';

/** The fields a web form may post to /intake/<token>. */
class IntakeForm {
  @IsOptional() @IsString() @MaxLength(200) firstName?: string;
  @IsString() @Length(1, 200) lastName: string;
  @IsOptional() @IsEmail() @MaxLength(320) email?: string;
  @IsOptional() @IsString() @MaxLength(300) company?: string;
  @IsOptional() @IsString() @MaxLength(50) phone?: string;
  @IsOptional() @IsString() @MaxLength(5000) message?: string;
}
const FORM_FIELDS = ['firstName', 'lastName', 'email', 'company', 'phone', 'message'] as const;

type IntakeResult = { ok: true; leadId: string } | { ok: false; status: 400 | 404; errors: FieldError[]; message: string };

/**
 * Lead intake: a per-workspace token in a public URL, which can do one thing: create a lead with
 * source WEB (the message, if any, as a NOTE on it). The lead then flows through the automation
 * rules like any other (assignment, welcome email, follow-up task).
 */
export class IntakeService {
  constructor(
    private readonly ds: DataSource,
    private readonly leads: LeadService,
    private readonly activities: ActivityService,
  ) {}

  async submit(token: string, body: unknown): Promise<IntakeResult> {
    const workspaceId = /^itk_[A-Za-z0-9_-]{32}$/.test(token)
      ? ((await this.ds.query(`SELECT auth_intake_workspace($1) AS id`, [token]))[0]?.id as string | null)
      : null;
    if (!workspaceId) return { ok: false, status: 404, errors: [], message: 'Unknown intake token' };
    const given = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const unknown = Object.keys(given).filter((k) => !(FORM_FIELDS as readonly string[]).includes(k));
    const form = Object.assign(
      new IntakeForm(),
      Object.fromEntries(FORM_FIELDS.filter((k) => given[k] !== undefined && given[k] !== '').map((k) => [k, given[k]])),
    );
    const errors = [
      ...flattenValidation(await validate(form, { forbidUnknownValues: false })),
      ...unknown.map((field) => ({ field: field.slice(0, 100), message: 'is not a field of the form' })),
    ];
    if (errors.length) return { ok: false, status: 400, errors, message: 'Invalid form' };
    const leadId = await inWorkspace(this.ds, workspaceId, async (tx) => {
      const ctx: ServiceContext = { tx, viewer: systemViewer(workspaceId, [ApiScope.READ, ApiScope.WRITE]), actor: SYSTEM_ACTOR };
      const lead = await this.leads.create(ctx, {
        firstName: form.firstName,
        lastName: form.lastName,
        email: form.email,
        company: form.company,
        phone: form.phone,
        source: LeadSource.WEB,
      } as CreateLeadInput);
      if (form.message)
        await this.activities.create(ctx, { type: ActivityType.NOTE, subject: 'Web form message', body: form.message, leadId: lead.id } as CreateActivityInput);
      return lead.id;
    });
    return { ok: true, leadId };
  }
}
