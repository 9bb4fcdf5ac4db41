import { IsEmail, IsOptional, IsUUID, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType, registerEnumType } from 'type-graphql';
import { ConnectionType, OrderType } from '../../data/connection';
import { BooleanFilter, DateTimeFilter, EnumFilter, IDFilter, StringFilter } from '../../data/filter';
import { TeamFilter } from '../teams/team.types';
import { User } from './user.entity';
import { IsOptionalNotNull } from '../../graphql/validators';
import { Role } from '../../kernel/roles';

export const PASSWORD_MIN = 10;

@InputType({ description: 'A new user of the workspace.' })
export class CreateUserInput implements Partial<User> {
  @Field({ description: 'The display name.' }) @Length(1, 200) name: string;
  @Field({ description: 'The sign-in email, unique in the workspace.' }) @IsEmail() @MaxLength(320) email: string;
  @Field(() => Role, { description: 'The role.' }) role: Role;
  @Field(() => ID, { nullable: true, description: 'The team the user belongs to.' }) @IsOptional() @IsUUID() teamId?: string;
  @Field({ nullable: true, description: 'An initial password (at least 10 characters); without one the user cannot sign in yet.' })
  @IsOptional()
  @Length(PASSWORD_MIN, 200)
  password?: string;
}

@InputType({ description: 'Changes to a user; omitted fields stay as they are.' })
export class UpdateUserInput implements Partial<User> {
  @Field({ nullable: true, description: 'The display name.' }) @IsOptional() @Length(1, 200) name?: string;
  @Field({ nullable: true, description: 'The sign-in email.' }) @IsOptional() @IsEmail() @MaxLength(320) email?: string;
  @Field(() => Role, { nullable: true, description: 'The role (ADMIN only).' }) @IsOptionalNotNull() role?: Role;
  @Field(() => ID, { nullable: true, description: 'The team (ADMIN only).' }) @IsOptional() @IsUUID() teamId?: string;
  @Field({ nullable: true, description: 'A new password (at least 10 characters).' }) @IsOptional() @Length(PASSWORD_MIN, 200) password?: string;
}

const RoleFilter = EnumFilter(Role, 'Role');

@InputType({ description: 'Conditions on users; all given conditions must hold.' })
export class UserFilter {
  @Field(() => IDFilter, { nullable: true, description: 'The user id.' }) id?: IDFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The email.' }) email?: StringFilter;
  @Field(() => StringFilter, { nullable: true, description: 'The name.' }) name?: StringFilter;
  @Field(() => RoleFilter, { nullable: true, description: 'The role.' }) role?: unknown;
  @Field(() => BooleanFilter, { nullable: true, description: 'Active or deactivated.' }) active?: BooleanFilter;
  @Field(() => IDFilter, { nullable: true, description: 'The team id.' }) teamId?: IDFilter;
  @Field(() => TeamFilter, { nullable: true, description: "Conditions on the user's team." }) team?: TeamFilter;
  @Field(() => DateTimeFilter, { nullable: true, description: 'When the user was created.' }) createdAt?: DateTimeFilter;
  @Field(() => [UserFilter], { nullable: true, description: 'All of these hold.' }) and?: UserFilter[];
  @Field(() => [UserFilter], { nullable: true, description: 'At least one of these holds.' }) or?: UserFilter[];
  @Field(() => UserFilter, { nullable: true, description: 'This does not hold.' }) not?: UserFilter;
}

enum UserOrderField {
  NAME = 'NAME',
  EMAIL = 'EMAIL',
  ROLE = 'ROLE',
  CREATED_AT = 'CREATED_AT',
  UPDATED_AT = 'UPDATED_AT',
}
registerEnumType(UserOrderField, {
  name: 'UserOrderField',
  description: 'Fields users can be sorted by.',
  valuesConfig: {
    NAME: { description: 'The name.' },
    EMAIL: { description: 'The email.' },
    ROLE: { description: 'The role.' },
    CREATED_AT: { description: 'When the user was created.' },
    UPDATED_AT: { description: 'When the user last changed.' },
  },
});
export const UserOrder = OrderType(UserOrderField, 'User');
export const UserConnection = ConnectionType(User);
