import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import type { WorkspaceService } from '../workspaces/workspace.service';
import type { AuthService } from './auth.service';
import { AuthPayload, SignUpInput, ViewerType } from './auth.types';
import { rowMapper } from '../../data/hydrate';
import { ApiKey } from '../api-keys/api-key.entity';

@Resolver()
export class AuthResolver {
  constructor(
    private readonly auth: AuthService,
    private readonly workspaces: WorkspaceService,
  ) {}

  @Mutation(() => AuthPayload, {
    description:
      'Creates a workspace and its first ADMIN user, and signs them in. Limited per client address and for everyone together (RATE_LIMITED); FORBIDDEN when the server has sign-up closed.',
  })
  async signUp(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => SignUpInput, { description: 'The workspace and its first ADMIN.' }) input: SignUpInput,
  ): Promise<AuthPayload> {
    // These mutations take connections of their own: a caller's token must not hold one meanwhile.
    await ctx.releaseConnection();
    return this.auth.signUp(input, ctx.clientAddress);
  }

  @Mutation(() => AuthPayload, {
    description:
      'Signs in with email and password. `workspaceId` chooses when the email belongs to several workspaces; without it only the oldest few accounts of the email are checked (LOGIN_MAX_ACCOUNTS_PER_EMAIL).',
  })
  async logIn(
    @Ctx() ctx: RequestContext,
    @Arg('email', { description: 'The sign-in email.' }) email: string,
    @Arg('password', { description: 'The password.' }) password: string,
    @Arg('workspaceId', () => ID, { nullable: true, description: 'The workspace to sign in to.' }) workspaceId?: string,
  ): Promise<AuthPayload> {
    await ctx.releaseConnection();
    return this.auth.logIn(email, password, workspaceId, ctx.clientAddress);
  }

  @Mutation(() => AuthPayload, { description: 'Trades a refresh token for new tokens; the old refresh token stops working.' })
  async refreshToken(
    @Ctx() ctx: RequestContext,
    @Arg('refreshToken', { description: 'The refresh token from the last sign-in or refresh.' }) refreshToken: string,
  ): Promise<AuthPayload> {
    await ctx.releaseConnection();
    return this.auth.refresh(refreshToken);
  }

  @Mutation(() => Boolean, { description: 'Ends the session of this refresh token. False if it was unknown or already ended.' })
  async logOut(
    @Ctx() ctx: RequestContext,
    @Arg('refreshToken', { description: 'The refresh token of the session to end.' }) refreshToken: string,
  ): Promise<boolean> {
    await ctx.releaseConnection();
    return this.auth.logOut(refreshToken);
  }

  @Authorized()
  @Query(() => ViewerType, { description: 'Who is calling: the user or API key, its workspace, role and scopes.' })
  async me(@Ctx() ctx: RequestContext): Promise<ViewerType> {
    const { viewer, tx } = ctx.auth;
    const user = viewer.userId && viewer.kind === 'USER' ? await ctx.loaders.user.load(viewer.userId) : null;
    const keyRow = viewer.apiKeyId ? await tx.one('SELECT * FROM api_key WHERE workspace_id = $1 AND id = $2', [tx.workspaceId, viewer.apiKeyId]) : undefined;
    return {
      kind: viewer.kind,
      user,
      apiKey: keyRow ? rowMapper(tx.dataSource, ApiKey)(keyRow) : null,
      workspace: await this.workspaces.get(tx),
      role: viewer.role,
      scopes: [...viewer.scopes],
    };
  }
}
