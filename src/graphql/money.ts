import { IsISO4217CurrencyCode, IsOptional, Matches } from 'class-validator';
import { Field, InputType, ObjectType } from 'type-graphql';
import { DecimalScalar } from './scalars';

@ObjectType({ description: 'An exact amount of money in one currency.' })
export class Money {
  @Field(() => DecimalScalar, { description: 'The amount, exact, as a string.' }) amount: string;
  @Field({ description: 'The ISO 4217 currency code.' }) currency: string;
}

@InputType({ description: 'An amount of money; the currency defaults to the workspace currency.' })
export class MoneyInput {
  @Field(() => DecimalScalar, { description: 'The amount, not negative, e.g. "1234.50".' })
  @Matches(/^\d/, { message: 'amount must not be negative' })
  // Stored as numeric(20,4): at most 16 digits before the point.
  @Matches(/^-?\d{1,16}(\.\d*)?$/, { message: 'amount must be less than 10^16' })
  amount: string;

  @Field({ nullable: true, description: 'An ISO 4217 currency code such as USD or EUR.' })
  @IsOptional()
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code such as USD' })
  currency?: string;
}

/** Money from an amount column and a currency column; null when there is no amount. */
export const money = (amount: string | null | undefined, currency: string | null | undefined): Money | null =>
  amount == null || !currency ? null : { amount: normaliseDecimal(amount), currency: currency.trim() };

/** "1200.5000" -> "1200.50", "3.0000" -> "3.00": numeric(20,4) as people write money. */
export function normaliseDecimal(v: string): string {
  if (!v.includes('.')) return `${v}.00`;
  const [int, frac] = v.split('.');
  const trimmed = frac.replace(/0+$/, '');
  return `${int}.${trimmed.padEnd(2, '0')}`;
}
