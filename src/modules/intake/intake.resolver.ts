import { Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import type { RequestContext } from '../../graphql/context';
import type { IntakeService } from './intake.service';

@Resolver()
export class IntakeResolver {
  constructor(private readonly intake: IntakeService) {}

  @Authorized('ADMIN')
  @Mutation(() => String, { description: 'A new lead intake token for `POST /intake/<token>`; the previous one stops working (ADMIN only).' })
  rotateIntakeToken(@Ctx() ctx: RequestContext): Promise<string> {
    return this.intake.rotateToken(ctx.auth);
  }
}
