import { IsDefined, ValidateIf } from 'class-validator';

/**
 * An input field that may be left out (the value stays as it is) but not set to null: the column
 * behind it cannot be empty. `@IsOptional()` lets null through, which the database then refuses.
 */
export function IsOptionalNotNull(): PropertyDecorator {
  return (target, key) => {
    ValidateIf((_object, value) => value !== undefined)(target, key);
    IsDefined({ message: `${String(key)} cannot be null: leave it out to keep the current value` })(target, key);
  };
}
