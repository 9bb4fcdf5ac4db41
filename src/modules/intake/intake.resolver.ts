import { Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { SecretField } from '../../graphql/secret-fields';
import type { RequestContext } from '../../data/context';
import type { WorkspaceService } from '../workspaces/workspace.service';

@Resolver()
export class IntakeResolver {
  constructor(private readonly workspaces: WorkspaceService) {}

  @Authorized('ADMIN')
  @SecretField()
  @Mutation(() => String, { description: 'A new lead intake token for `POST /intake/<token>`; the previous one stops working (ADMIN only).' })
  rotateIntakeToken(@Ctx() ctx: RequestContext): Promise<string> {
    return this.workspaces.rotateIntakeToken(ctx.auth);
  }
}
