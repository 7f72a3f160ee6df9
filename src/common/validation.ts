import { ValidationError, ValidationPipeOptions } from '@nestjs/common';
import { FieldError, InvalidInputError } from './errors';

/** class-validator rule names, most basic first: when several fail on one field, the first is reported. */
const BASIC_RULES = ['whitelistValidation', 'isDefined', 'isString', 'isObject', 'isNotEmpty'];

/** Flattens class-validator's nested errors into field paths ("metadata", "[2].content"). */
export function toFieldErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = /^\d+$/.test(error.property)
      ? `${prefix}[${error.property}]`
      : prefix
        ? `${prefix}.${error.property}`
        : error.property;
    // One reason per field: the most basic rule that failed, so a missing `content` is "required", not
    // also "not a string" and "blank".
    const constraints = error.constraints ?? {};
    const basic = BASIC_RULES.find((rule) => rule in constraints);
    const reason = basic ? constraints[basic] : Object.values(constraints)[0];
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
