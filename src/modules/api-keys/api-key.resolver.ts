import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { ApiKey } from './api-key.entity';
import type { ApiKeyService } from './api-key.service';
import { ApiKeyWithSecret, CreateApiKeyInput } from './api-key.types';

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  constructor(private readonly keys: ApiKeyService) {}

  @Authorized('ADMIN')
  @Query(() => [ApiKey], { description: 'The API keys of the workspace, newest first (ADMIN only).' })
  apiKeys(@Ctx() ctx: RequestContext): Promise<ApiKey[]> {
    return this.keys.list(ctx.auth);
  }

  @Authorized('ADMIN')
  @Mutation(() => ApiKeyWithSecret, { description: 'Creates an API key; its secret is in this answer only (ADMIN only).' })
  createApiKey(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => CreateApiKeyInput, { description: 'The new key.' }) input: CreateApiKeyInput,
  ): Promise<ApiKeyWithSecret> {
    return this.keys.create(ctx.auth, input);
  }

  @Authorized('ADMIN')
  @Mutation(() => ApiKey, { description: 'Revokes an API key at once (ADMIN only).' })
  revokeApiKey(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The API key id.' }) id: string): Promise<ApiKey> {
    return this.keys.revoke(ctx.auth, id);
  }
}
