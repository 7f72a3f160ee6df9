import { ArgumentMetadata, Injectable, PipeTransform, ValidationError } from '@nestjs/common';
import { validateSync, ValidatorOptions } from 'class-validator';
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

/** One set of rules for every DTO, whether from the API or from the feedback topic. */
export const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};

const NOT_DTOS = new Set<unknown>([undefined, Object, Array, String, Number, Boolean]);

/**
 * Validates a JSON object against a DTO class with class-validator (synchronously: every rule is), and
 * returns the DTO instance, or throws INVALID_INPUT with one reason per field. The object is copied onto a
 * new instance rather than run through class-transformer: the DTOs carry no transformations, and
 * plainToInstance cost more than the validation itself.
 */
export function validateDto<T extends object>(type: new () => T, plain: unknown, prefix = ''): T {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new InvalidInputError([{ field: prefix || 'body', reason: 'must be a JSON object (a Message)' }]);
  }
  const instance = Object.assign(new type(), plain);
  const errors = validateSync(instance, VALIDATOR_OPTIONS);
  if (errors.length > 0) {
    throw new InvalidInputError(toFieldErrors(errors, prefix));
  }
  return instance;
}

/**
 * The global pipe: every @Body() and @Query() typed with a DTO class is validated by validateDto. An empty
 * query string is not run through class-validator when the DTO has no required field (known per class).
 */
@Injectable()
export class DtoValidationPipe implements PipeTransform {
  private readonly emptyIsValid = new Map<unknown, boolean>();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const type = metadata.metatype as (new () => object) | undefined;
    if (!type || NOT_DTOS.has(type) || (metadata.type !== 'body' && metadata.type !== 'query')) {
      return value;
    }
    if (metadata.type === 'query' && isEmpty(value)) {
      let valid = this.emptyIsValid.get(type);
      if (valid === undefined) {
        valid = validateSync(new type(), VALIDATOR_OPTIONS).length === 0;
        this.emptyIsValid.set(type, valid);
      }
      if (valid) {
        return new type();
      }
    }
    return validateDto(type, value);
  }
}

function isEmpty(value: unknown): boolean {
  for (const key in value as object) {
    if (Object.hasOwn(value as object, key)) {
      return false;
    }
  }
  return true;
}
