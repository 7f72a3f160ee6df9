import { ArgumentMetadata, Injectable, PipeTransform, ValidationError } from '@nestjs/common';
import {
  getMetadataStorage,
  MetadataStorage,
  ValidationArguments,
  ValidationTypes,
  validateSync,
  ValidatorOptions,
} from 'class-validator';
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

type ValidationMetadata = ReturnType<MetadataStorage['getTargetValidationMetadatas']>[number];

/** One property's rules from class-validator's metadata: IsOptional's conditions, then its constraints. */
interface PropertyRules {
  name: string;
  conditions: ((object: object, value: unknown) => boolean)[];
  checks: {
    metadata: ValidationMetadata;
    constraints: ReturnType<MetadataStorage['getTargetValidatorConstraints']>;
  }[];
}

/** A DTO class's properties (the only ones it allows) and their rules. */
interface DtoRules {
  names: Set<string>;
  properties: PropertyRules[];
}

/**
 * A DTO class's rules as class-validator registered them (its decorators' metadata and constraint
 * classes), grouped once per class, or null when the class uses something this plan does not run itself
 * (nested DTOs, `each`, ValidateIf, async constraints, groups): those always go through validateSync.
 */
function rulesOf(type: new () => object): DtoRules | null {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(type, '', false, false);
  if (metadatas.length === 0) {
    return null;
  }
  const properties: PropertyRules[] = [];
  for (const [name, ofProperty] of Object.entries(storage.groupByPropertyName(metadatas))) {
    const property: PropertyRules = { name, conditions: [], checks: [] };
    for (const metadata of ofProperty) {
      if (metadata.each || metadata.validateIf || (metadata.groups?.length ?? 0) > 0) {
        return null;
      }
      if (metadata.type === ValidationTypes.CONDITIONAL_VALIDATION) {
        property.conditions.push(metadata.constraints[0] as (object: object, value: unknown) => boolean);
      } else if (
        metadata.type === ValidationTypes.IS_DEFINED ||
        metadata.type === ValidationTypes.CUSTOM_VALIDATION
      ) {
        const constraints = storage.getTargetValidatorConstraints(metadata.constraintCls);
        if (constraints.some((constraint) => constraint.async)) {
          return null;
        }
        property.checks.push({ metadata, constraints });
      } else if (metadata.type !== ValidationTypes.WHITELIST) {
        return null;
      }
    }
    properties.push(property);
  }
  return { names: new Set(properties.map((property) => property.name)), properties };
}

const RULES = new Map<unknown, DtoRules | null>();

/** IsOptional's conditions: false when the value is absent, and then the property's rules are skipped. */
function conditionsHold(conditions: PropertyRules['conditions'], instance: object, value: unknown): boolean {
  for (const condition of conditions) {
    if (!condition(instance, value)) {
      return false;
    }
  }
  return true;
}

/**
 * Whether class-validator would find no error in `instance`, decided with its own metadata and
 * constraint instances but without building a ValidationError for every property (its cost on the
 * success path: ~14 KB of garbage per Message). Answers false whenever it is not sure (any failed rule,
 * an unknown property, a promise); the caller then runs validateSync, which has the last word and
 * writes the error messages.
 */
function passesRules(type: new () => object, instance: object): boolean {
  let rules = RULES.get(type);
  if (rules === undefined) {
    rules = rulesOf(type);
    RULES.set(type, rules);
  }
  if (rules === null) {
    return false;
  }
  for (const key in instance) {
    if (Object.hasOwn(instance, key) && !rules.names.has(key)) {
      return false;
    }
  }
  const args: ValidationArguments = {
    targetName: type.name,
    property: '',
    object: instance,
    value: undefined,
    constraints: [],
  };
  for (const property of rules.properties) {
    const value = (instance as Record<string, unknown>)[property.name];
    if (!conditionsHold(property.conditions, instance, value)) {
      continue;
    }
    args.property = property.name;
    args.value = value;
    for (const { metadata, constraints } of property.checks) {
      args.constraints = metadata.constraints;
      for (const constraint of constraints) {
        if (constraint.instance.validate(value, args) !== true) {
          return false;
        }
      }
    }
  }
  return true;
}

const NAMES = new Map<unknown, Set<string>>();

/** The properties a DTO class declares (its class-validator decorators, inherited ones too): all it allows. */
function propertyNamesOf(type: new () => object): Set<string> {
  let names = NAMES.get(type);
  if (names === undefined) {
    const metadatas = getMetadataStorage().getTargetValidationMetadatas(type, '', false, false);
    names = new Set(metadatas.map((metadata) => metadata.propertyName));
    NAMES.set(type, names);
  }
  return names;
}

const fieldName = (prefix: string, key: string): string => (prefix ? `${prefix}.${key}` : key);

/**
 * Validates a JSON object against a DTO class with class-validator (synchronously: every rule is), and
 * returns the DTO instance, or throws INVALID_INPUT with one reason per field. Only the class's own
 * properties are copied onto a new instance; every other own member of the object is an unknown field,
 * whatever its name: class-validator's whitelist looks names up on a plain object, so `hasOwnProperty` or
 * `constructor` passed for declared ones. The DTOs carry no transformations, so no class-transformer
 * (plainToInstance cost more than the validation itself). A valid object is recognised from the class's
 * class-validator rules directly (passesRules); anything else gets validateSync's full answer.
 */
export function validateDto<T extends object>(type: new () => T, plain: unknown, prefix = ''): T {
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new InvalidInputError([{ field: prefix || 'body', reason: 'must be a JSON object (a Message)' }]);
  }
  const names = propertyNamesOf(type);
  const instance = new type();
  const unknown: FieldError[] = [];
  for (const key of Object.keys(plain)) {
    if (names.has(key)) {
      (instance as Record<string, unknown>)[key] = (plain as Record<string, unknown>)[key];
    } else {
      unknown.push({ field: fieldName(prefix, key), reason: `property ${key} should not exist` });
    }
  }
  if (unknown.length === 0 && passesRules(type, instance)) {
    return instance;
  }
  const errors = [...unknown, ...toFieldErrors(validateSync(instance, VALIDATOR_OPTIONS), prefix)];
  if (errors.length > 0) {
    throw new InvalidInputError(errors);
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
