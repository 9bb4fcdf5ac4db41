import { ArrayMinSize, ArrayUnique, IsOptional, Length } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';
import { SecretField } from '../../graphql/secret-fields';
import { ApiKey } from './api-key.entity';
import { ApiScope } from '../../kernel/roles';

@InputType({ description: 'A new API key.' })
export class CreateApiKeyInput {
  @Field({ description: 'A name to recognise the key by.' }) @Length(1, 200) name: string;
  @Field(() => [ApiScope], { description: 'What the key may do: READ, WRITE or both.' }) @ArrayMinSize(1) @ArrayUnique() scopes: ApiScope[];
  @Field(() => Date, { nullable: true, description: 'After this instant the key no longer works.' }) @IsOptional() expiresAt?: Date;
}

@ObjectType({ description: 'A new API key and its secret, which is shown this once and never again.' })
export class ApiKeyWithSecret {
  @Field(() => ApiKey, { description: 'The key.' }) apiKey: ApiKey;
  @SecretField() @Field({ description: 'The secret to send as `Authorization: Bearer <secret>`.' }) secret: string;
}
