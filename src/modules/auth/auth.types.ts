import { IsEmail, Length, MaxLength } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';
import { SecretField } from '../../graphql/secret-fields';
import { ApiKey } from '../api-keys/api-key.entity';
import { User } from '../users/user.entity';
import { PASSWORD_MIN } from '../users/user.types';
import { Workspace } from '../workspaces/workspace.entity';
import { Role, ApiScope } from '../../kernel/roles';

@InputType({ description: 'A new workspace and its first ADMIN user.' })
export class SignUpInput {
  @Field({ description: 'The name of the new workspace.' }) @Length(1, 200) workspaceName: string;
  @Field({ description: "The first user's name." }) @Length(1, 200) name: string;
  @Field({ description: "The first user's email." }) @IsEmail() @MaxLength(320) email: string;
  @Field({ description: 'A password of at least 10 characters.' }) @Length(PASSWORD_MIN, 200) password: string;
}

@ObjectType({ description: 'Tokens for a signed-in user.' })
export class AuthPayload {
  @SecretField() @Field({ description: 'A JWT for `Authorization: Bearer`, valid 15 minutes.' }) accessToken: string;
  @SecretField() @Field({ description: 'An opaque token for `refreshToken`; each use returns a new one and retires the old.' }) refreshToken: string;
  @Field(() => User, { description: 'The signed-in user.' }) user: User;
  @Field(() => Workspace, { description: "The user's workspace." }) workspace: Workspace;
}

@ObjectType('Viewer', { description: 'Who is calling: a user or an API key, in a workspace.' })
export class ViewerType {
  @Field({ description: '`USER` or `API_KEY`.' }) kind: string;
  @Field(() => User, { nullable: true, description: 'The signed-in user (null for an API key).' }) user: User | null;
  @Field(() => ApiKey, { nullable: true, description: 'The API key in use (null for a user).' }) apiKey: ApiKey | null;
  @Field(() => Workspace, { description: 'The workspace.' }) workspace: Workspace;
  @Field(() => Role, { nullable: true, description: "The user's role (null for an API key)." }) role: Role | null;
  @Field(() => [ApiScope], { description: 'What the caller may do.' }) scopes: ApiScope[];
}
