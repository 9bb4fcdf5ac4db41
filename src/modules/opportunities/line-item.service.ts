import { PG_CHECK, PG_NUMERIC_OUT_OF_RANGE, pgError } from '../../db/pg-errors';
import { isUuid } from '../../db/tenant-transaction';
import type { ServiceContext } from '../../data/context';
import { badField, notFound } from '../../kernel/errors';
import { getById, insertRecord, lockRecord, updateRecord } from '../../data/record-store';
import { recordEvent } from '../../data/event-log';
import type { ProductService } from '../products/product.service';
import { LineItem as LineItemEntity, type LineItem, type Opportunity } from './opportunity.entity';
import { LINE_ITEM_STORE } from './opportunity.descriptor';
import type { OpportunityService } from './opportunity.service';
import type { AddLineItemInput, UpdateLineItemInput } from './opportunity.types';

/**
 * Line items of an opportunity: quantity x unit price - discount, in the opportunity's currency.
 * After every change the opportunity's amount becomes their sum (an `opportunity.updated` event).
 */
export class LineItemService {
  constructor(
    private readonly opportunities: OpportunityService,
    private readonly products: ProductService,
  ) {}

  /** One line of any opportunity of the workspace, as `Opportunity.lineItems` shows it. */
  get(ctx: ServiceContext, id: string): Promise<LineItem> {
    return getById(ctx, 'line_item', LineItemEntity, 'Line item', id);
  }

  async add(ctx: ServiceContext, opportunityId: string, input: AddLineItemInput): Promise<LineItem> {
    return ctx.tx.savepoint(async () => {
      const opp = await this.opportunities.lockForLineItems(ctx, opportunityId);
      let name = input.name?.trim();
      let unitPrice = input.unitPrice;
      if (input.productId) {
        const product = await this.products.get(ctx, input.productId).catch(() => null);
        if (!product || product.deletedAt) throw badField('productId', 'no such product');
        if (!product.active) throw badField('productId', 'the product is inactive');
        if (unitPrice === undefined) {
          if (product.unitPriceValue == null) throw badField('unitPrice', 'the product has no price: give one');
          if (product.currency !== opp.currency)
            throw badField('productId', `the product is priced in ${product.currency}, the opportunity in ${opp.currency}: give a unitPrice`);
          unitPrice = product.unitPriceValue;
        }
        name ??= product.name;
      }
      if (!name) throw badField('name', 'a line without a product needs a name');
      if (unitPrice === undefined) throw badField('unitPrice', 'a line without a product needs a unit price');
      assertPositive(input.quantity);
      const position = (await ctx.tx.one<{ n: number }>('SELECT count(*)::int AS n FROM line_item WHERE workspace_id = $1 AND opportunity_id = $2', [
        ctx.tx.workspaceId,
        opp.id,
      ]))!.n;
      const { record } = await this.checked(() =>
        insertRecord(ctx, LINE_ITEM_STORE, {
          opportunityId: opp.id,
          productId: input.productId ?? null,
          name,
          quantityValue: input.quantity,
          unitPriceValue: unitPrice,
          discountValue: input.discount ?? '0',
          currency: opp.currency,
          position,
        }),
      );
      await this.checked(() => this.syncAmount(ctx, opp));
      return record;
    });
  }

  async update(ctx: ServiceContext, id: string, input: UpdateLineItemInput): Promise<LineItem> {
    return ctx.tx.savepoint(async () => {
      const item = await this.lock(ctx, id);
      const opp = await this.opportunities.lockForLineItems(ctx, item.opportunityId);
      if (input.quantity !== undefined) assertPositive(input.quantity);
      const { record } = await this.checked(() =>
        updateRecord(
          ctx,
          LINE_ITEM_STORE,
          id,
          { name: input.name?.trim(), quantityValue: input.quantity, unitPriceValue: input.unitPrice, discountValue: input.discount },
          {},
          item,
        ),
      );
      await this.checked(() => this.syncAmount(ctx, opp));
      return record;
    });
  }

  /** Removes a line (recorded as `line_item.removed`); returns the opportunity with its new amount. */
  async remove(ctx: ServiceContext, id: string): Promise<Opportunity> {
    return ctx.tx.savepoint(async () => {
      const item = await this.lock(ctx, id);
      const opp = await this.opportunities.lockForLineItems(ctx, item.opportunityId);
      await ctx.tx.query('DELETE FROM line_item WHERE workspace_id = $1 AND id = $2', [ctx.tx.workspaceId, id]);
      await recordEvent(ctx.tx, { type: 'line_item.removed', entityType: 'line_item', entityId: id, actor: ctx.actor, data: LINE_ITEM_STORE.toData(item) });
      return this.syncAmount(ctx, opp);
    });
  }

  private async lock(ctx: ServiceContext, id: string): Promise<LineItem> {
    if (!isUuid(id)) throw notFound('Line item');
    return lockRecord(ctx, LINE_ITEM_STORE, id);
  }

  /** The amount is the sum of the lines; with no lines left it stays as it was. */
  private async syncAmount(ctx: ServiceContext, opp: Opportunity): Promise<Opportunity> {
    const row = await ctx.tx.one<{ total: string | null }>(
      'SELECT sum(total_value)::text AS total FROM line_item WHERE workspace_id = $1 AND opportunity_id = $2',
      [ctx.tx.workspaceId, opp.id],
    );
    if (row?.total == null) return opp;
    return (await this.opportunities.setAmountFromLineItems(ctx, opp.id, row.total)).record;
  }

  /** A discount larger than the line breaks the total's CHECK, an amount too large the numeric type: say so per field. */
  private async checked<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (pgError(err).code === PG_CHECK) throw badField('discount', 'must not exceed quantity x unit price');
      // numeric(20,4) holds less than 10^16: a line (or the deal's sum of lines) beyond it.
      if (pgError(err).code === PG_NUMERIC_OUT_OF_RANGE) throw badField('quantity', 'quantity x unit price, and the sum of the lines, must be less than 10^16');
      throw err;
    }
  }
}

function assertPositive(quantity: string): void {
  if (!/[1-9]/.test(quantity)) throw badField('quantity', 'must be more than 0');
}
