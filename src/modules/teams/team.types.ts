import { IsOptional, IsUUID, Length } from 'class-validator';
import { Field, ID, InputType, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderType } from '../../data/connection';
import { DateTimeFilter, IDFilter, StringFilter } from '../../data/filter';
import { Team } from './team.entity';

@InputType({ description: 'A new team.' })
export class CreateTeamInput implements Partial<Team> {
  @Field({ description: 'The team name, unique in the workspace.' }) @Length(1, 200) name: string;
  @Field(() => ID, { nullable: true, description: "The team's manager." }) @IsOptional() @IsUUID() managerId?: string;
}

@InputType({ description: 'Changes to a team; omitted fields stay as they are.' })
export class UpdateTeamInput implements Partial<Team> {
  @Field({ nullable: true, description: 'The team name.' }) @IsOptional() @Length(1, 200) name?: string;
  @Field(() => ID, { nullable: true, description: "The team's manager." }) @IsOptional() @IsUUID() managerId?: string;
}

@InputType({ description: 'Conditions on teams; all given conditions must hold.' })
export class TeamFilter {
  @Field(() => IDFilter, { nullable: true, description: 'The team id.' }) id?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The name.' }) name?: StringFilter;
  @Field(() => IDFilter, { nullable: true, description: "The manager's id." }) managerId?: IDFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When the team was created.' }) createdAt?: DateTimeFilter;
  @Field(() => [TeamFilter], { nullable: true, description: 'All of these hold.' }) and?: TeamFilter[];
  @Field(() => [TeamFilter], { nullable: true, description: 'At least one of these holds.' }) or?: TeamFilter[];
  @Field(() => TeamFilter, { nullable: true, description: 'This does not hold.' }) not?: TeamFilter;
}

enum TeamOrderField {
  NAME = 'NAME',
  CREATED_AT = 'CREATED_AT',
}
registerEnumType(TeamOrderField, {
  name: 'TeamOrderField',
  description: 'Fields teams can be sorted by.',
  valuesConfig: {
    NAME: { description: 'The name.' },
    CREATED_AT: { description: 'When it was created.' },
  },
});
export const TeamOrder = OrderType(TeamOrderField, 'Team');
export const TeamConnection = ConnectionType(Team);
