// CSV injection: a spreadsheet opening an export runs a cell that starts with = + - @ (or a tab or
// carriage return before one) as a formula, e.g. =HYPERLINK(...) posted by anyone to the public
// intake. OWASP's rule: such a cell gets a leading single quote, which spreadsheets read as "text".

const FORMULA_START = /^[=+\-@\t\r]/;
/** A number as the API writes a Decimal or Int: a sign, digits, a point. It cannot hold a formula. */
const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * A cell's text. `numeric`: the column holds numbers (a plain negative number stays as it is there,
 * and anywhere when the API sent a JSON number); `escapeFormulas` false writes every cell as it is.
 */
export function csvCell(value: unknown, numeric: boolean, escapeFormulas: boolean): string {
  const text = value == null ? '' : String(value);
  if (!escapeFormulas || typeof value === 'number' || !FORMULA_START.test(text)) return text;
  if (numeric && PLAIN_NUMBER.test(text)) return text;
  return `'${text}`;
}
