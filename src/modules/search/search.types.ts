import { createUnionType, Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Account } from '../accounts/account.entity';
import { Contact } from '../contacts/contact.entity';
import { Lead } from '../leads/lead.entity';
import { Opportunity } from '../opportunities/opportunity.entity';

export enum SearchableType {
  ACCOUNT = 'account',
  CONTACT = 'contact',
  LEAD = 'lead',
  OPPORTUNITY = 'opportunity',
}
registerEnumType(SearchableType, {
  name: 'SearchableType',
  description: 'The kinds of records `search` looks through.',
  valuesConfig: {
    ACCOUNT: { description: 'Accounts, by name and domain.' },
    CONTACT: { description: 'Contacts, by name and email.' },
    LEAD: { description: 'Leads, by name, email and company.' },
    OPPORTUNITY: { description: 'Opportunities, by name.' },
  },
});

// No resolveType of our own: type-graphql's default picks the member by class, synchronously, which
// compiled execution needs (graphql-jit cannot await the async wrapper it puts around a custom one).
export const SearchRecord = createUnionType({
  name: 'SearchRecord',
  description: 'A record found by search.',
  types: () => [Account, Contact, Lead, Opportunity] as const,
});

@ObjectType({ description: 'A search result, best first.' })
export class SearchHit {
  @Field(() => SearchableType, { description: 'The kind of record.' }) type: SearchableType;
  @Field(() => ID, { description: 'The record id.' }) id: string;
  @Field({ description: 'The name to show.' }) title: string;
  @Field(() => String, { nullable: true, description: 'A second line: domain, email or company.' }) subtitle: string | null;
  @Field(() => Float, { description: 'How well it matches, higher is better.' }) score: number;
}
