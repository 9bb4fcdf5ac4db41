import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { Column, Entity } from 'typeorm';
import { JSONScalar } from '../../graphql/scalars';
import { SoftDeletableRecord, TenantRecord } from '../../graphql/record';

export enum LeadStatus {
  NEW = 'NEW',
  CONTACTED = 'CONTACTED',
  QUALIFIED = 'QUALIFIED',
  UNQUALIFIED = 'UNQUALIFIED',
  CONVERTED = 'CONVERTED',
}
registerEnumType(LeadStatus, {
  name: 'LeadStatus',
  description: 'Where a lead stands; CONVERTED is set by convertLead only.',
  valuesConfig: {
    NEW: { description: 'Not yet contacted.' },
    CONTACTED: { description: 'Contacted, not yet qualified.' },
    QUALIFIED: { description: 'Worth pursuing: ready to convert.' },
    UNQUALIFIED: { description: 'Not worth pursuing.' },
    CONVERTED: { description: 'Turned into an account, a contact and possibly an opportunity by `convertLead`.' },
  },
});

export enum LeadSource {
  WEB = 'WEB',
  REFERRAL = 'REFERRAL',
  EVENT = 'EVENT',
  PARTNER = 'PARTNER',
  OUTBOUND = 'OUTBOUND',
  ADVERTISING = 'ADVERTISING',
  IMPORT = 'IMPORT',
  OTHER = 'OTHER',
}
registerEnumType(LeadSource, {
  name: 'LeadSource',
  description: 'Where a lead came from.',
  valuesConfig: {
    WEB: { description: 'A web form or the website.' },
    REFERRAL: { description: 'Referred by a customer or a contact.' },
    EVENT: { description: 'A trade show, conference or webinar.' },
    PARTNER: { description: 'A partner.' },
    OUTBOUND: { description: 'Our own prospecting.' },
    ADVERTISING: { description: 'An advertisement.' },
    IMPORT: { description: 'A CSV import or a bulk load.' },
    OTHER: { description: 'Anywhere else.' },
  },
});

@ObjectType({
  implements: [TenantRecord, SoftDeletableRecord],
  simpleResolvers: true,
  description: 'A prospect: a person interested in us, not yet qualified.',
})
@Entity('lead')
export class Lead extends SoftDeletableRecord {
  @Field(() => String, { nullable: true, description: 'The first name.' }) @Column('text', { nullable: true }) firstName: string | null;
  @Field({ description: 'The last name.' }) @Column('text') lastName: string;
  @Field(() => String, { nullable: true, description: 'The email address.' }) @Column('text', { nullable: true }) email: string | null;
  @Field(() => String, { nullable: true, description: 'The phone number.' }) @Column('text', { nullable: true }) phone: string | null;
  @Field(() => String, { nullable: true, description: 'The company the lead works for.' }) @Column('text', { nullable: true }) company: string | null;
  @Field(() => String, { nullable: true, description: 'The job title.' }) @Column('text', { nullable: true }) title: string | null;
  @Field(() => LeadStatus, { description: 'Where the lead stands.' }) @Column('text') status: LeadStatus;
  @Field(() => LeadSource, { nullable: true, description: 'Where the lead came from.' }) @Column('text', { nullable: true }) source: LeadSource | null;
  @Column('uuid', { nullable: true }) ownerId: string | null;
  @Field(() => String, { nullable: true, description: 'The id of this lead in an integrated system; unique in the workspace.' })
  @Column('text', { nullable: true })
  externalId: string | null;
  @Field(() => JSONScalar, { description: "Values of the workspace's custom fields for leads, by key." }) @Column('jsonb') customFields: Record<
    string,
    unknown
  >;
  @Field(() => Date, { nullable: true, description: 'When the lead was converted.' }) @Column('timestamptz', { nullable: true }) convertedAt: Date | null;
  @Column('uuid', { nullable: true }) convertedAccountId: string | null;
  @Column('uuid', { nullable: true }) convertedContactId: string | null;
  @Column('uuid', { nullable: true }) convertedOpportunityId: string | null;

  @Field({ description: 'First and last name.' })
  get name(): string {
    return [this.firstName, this.lastName].filter(Boolean).join(' ');
  }
}
