import { Account } from '../modules/accounts/account.entity';
import { Activity } from '../modules/activities/activity.entity';
import { Contact } from '../modules/contacts/contact.entity';
import { Lead } from '../modules/leads/lead.entity';
import { Opportunity } from '../modules/opportunities/opportunity.entity';
import { Pipeline, Stage } from '../modules/pipelines/pipeline.entity';
import { type ActivityParent, LATEST_ACTIVITIES_MAX } from './loaders';
import { children, type IncludeSpec, toOne } from './lookahead';

/**
 * The relations lists fetch with their page when selected (see lookahead.ts): each reads exactly
 * what the loader its resolver asks would read, and primes that loader.
 */
export const INCLUDE = {
  account: toOne('account', Account, 'account_id', (l) => l.account),
  contact: toOne('contact', Contact, 'contact_id', (l) => l.contact),
  primaryContact: toOne('contact', Contact, 'primary_contact_id', (l) => l.contact),
  lead: toOne('lead', Lead, 'lead_id', (l) => l.lead),
  opportunity: toOne('opportunity', Opportunity, 'opportunity_id', (l) => l.opportunity),
  stage: toOne('stage', Stage, 'stage_id', (l) => l.stage),
  pipeline: toOne('pipeline', Pipeline, 'pipeline_id', (l) => l.pipeline),
} satisfies Record<string, IncludeSpec>;

/** `activities(first: n)` of a record: its n latest live activities. */
export function latestActivities(parent: ActivityParent): IncludeSpec {
  return children('activity', Activity, `${parent}_id`, 'c.created_at DESC, c.id DESC', 'c.deleted_at IS NULL', (l, args) => {
    const first = args.first as number;
    // Out of range: not included, so that the field's resolver reports it as before.
    if (!Number.isInteger(first) || first < 0 || first > LATEST_ACTIVITIES_MAX) return null;
    return { loader: l.latestActivities(parent, first), limit: first };
  });
}
