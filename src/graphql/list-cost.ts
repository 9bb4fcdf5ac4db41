// The field extensions a list declares its price in the cost model with (server/limits.ts reads them).

/** The extension a list field declares its own cap with, when it is not MAX_CHILDREN: `@Extensions({ [LIST_CAP]: 200 })`. */
export const LIST_CAP = 'listCap';

/**
 * The extension naming the list argument a list field returns one item per (`nodes(ids)`: one per
 * id): the field costs as many items as that argument holds (at most its cap), not its cap.
 */
export const LIST_SIZE_ARG = 'listSizeArg';
