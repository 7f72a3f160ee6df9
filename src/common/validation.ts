import { ValidationError, ValidationPipeOptions } from '@nestjs/common';
import { FieldError, InvalidInputError } from './errors';

/** Flattens class-validator's nested errors into field paths ("metadata", "[2].content"). */
export function toFieldErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = /^\d+$/.test(error.property)
      ? `${prefix}[${error.property}]`
      : prefix
        ? `${prefix}.${error.property}`
        : error.property;
    // One reason per field: the most basic rule that failed, so a missing `content` is "required", not
    // also "not a string" and "blank". class-validator checks IsDefined first; the other decorators
    // register bottom-up, so the rule written first on the property is the last constraint.
    const reasons = Object.values(error.constraints ?? {});
    const reason = error.constraints?.isDefined ?? reasons[reasons.length - 1];
    const own = reason === undefined ? [] : [{ field, reason }];
    return [...own, ...toFieldErrors(error.children ?? [], field)];
  });
}

/** One set of rules for every Message, whether from the API or from the feedback topic. */
export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  validationError: { target: false, value: false },
  exceptionFactory: (errors: ValidationError[]) => new InvalidInputError(toFieldErrors(errors)),
};
