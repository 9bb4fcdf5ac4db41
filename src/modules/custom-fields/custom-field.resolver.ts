import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../../data/context';
import { EntityType } from '../../graphql/enums';
import { CustomFieldDefinition } from './custom-field.entity';
import type { CustomFieldService } from './custom-field.service';
import { DefineCustomFieldInput, UpdateCustomFieldInput } from './custom-field.types';

@Resolver(() => CustomFieldDefinition)
export class CustomFieldResolver {
  constructor(private readonly service: CustomFieldService) {}

  @Authorized('READ')
  @Query(() => [CustomFieldDefinition], { description: 'The custom fields of the workspace, of one kind of record or of all.' })
  customFieldDefinitions(
    @Ctx() ctx: RequestContext,
    @Arg('entityType', () => EntityType, { nullable: true, description: 'Only this kind of record.' }) entityType?: EntityType,
  ): Promise<CustomFieldDefinition[]> {
    return this.service.list(ctx.auth, entityType);
  }

  @Authorized('ADMIN')
  @Mutation(() => CustomFieldDefinition, { description: 'Adds a custom field to a kind of record (ADMIN only).' })
  defineCustomField(
    @Ctx() ctx: RequestContext,
    @Arg('input', () => DefineCustomFieldInput, { description: 'The new field.' }) input: DefineCustomFieldInput,
  ): Promise<CustomFieldDefinition> {
    return this.service.define(ctx.auth, input);
  }

  @Authorized('ADMIN')
  @Mutation(() => CustomFieldDefinition, { description: 'Changes the label, options or required flag of a custom field (ADMIN only).' })
  updateCustomField(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID, { description: 'The custom field id.' }) id: string,
    @Arg('input', () => UpdateCustomFieldInput, { description: 'The changes; omitted fields stay as they are.' }) input: UpdateCustomFieldInput,
  ): Promise<CustomFieldDefinition> {
    return this.service.update(ctx.auth, id, input);
  }

  @Authorized('ADMIN')
  @Mutation(() => CustomFieldDefinition, { description: 'Removes a custom field and its values from every record (ADMIN only).' })
  removeCustomField(@Ctx() ctx: RequestContext, @Arg('id', () => ID, { description: 'The custom field id.' }) id: string): Promise<CustomFieldDefinition> {
    return this.service.remove(ctx.auth, id);
  }
}
