import { ErrorCode, FieldError, InvalidInputError, ServiceError } from '../common/errors';

/** application/json and every +json type (application/cloudevents+json, …). */
export const JSON_CONTENT_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** Deeper than any valid request (a batch is 3 levels: array, message, metadata). */
export const MAX_JSON_DEPTH = 32;

/** Keys that reach an object's prototype when a library merges or assigns them. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A string with an unpaired surrogate (`"\ud800"` in JSON) has no UTF-8 form: written to Kafka it would
 * become U+FFFD, not what was sent. Refused wherever it is (RFC 8259 §8.2: such strings' behaviour is
 * unpredictable).
 */
const LONE_SURROGATE =
  'contains an unpaired surrogate (a \\uD800-\\uDFFF escape without its pair): not encodable as UTF-8';

const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/** An object or array inside a parsed body, and where it sits (its field name is built only when needed). */
interface Place {
  value: object;
  parent: Place | undefined;
  key: string | number;
  depth: number;
}

/** The field name of `place` (the body itself is ''), or of its member `key` (recursing at most MAX_JSON_DEPTH levels). */
function fieldOf(place: Place, key?: string | number): string {
  const parent = place.parent ? fieldOf(place.parent, place.key) : '';
  if (key === undefined) {
    return parent;
  }
  if (typeof key === 'number') {
    return `${parent}[${key}]`;
  }
  return parent ? `${parent}.${key}` : key;
}

/**
 * Walks a parsed body without recursion (JSON.parse accepts any depth; a recursive validator would
 * overflow the stack on a deep one), refusing what no valid request holds: nesting deeper than
 * MAX_JSON_DEPTH, strings with unpaired surrogates, and prototype keys anywhere, named as the unknown
 * fields they are.
 */
function checkShape(root: unknown): void {
  if (root === null || typeof root !== 'object') {
    return;
  }
  const stack: Place[] = [{ value: root, parent: undefined, key: '', depth: 0 }];
  const unknownFields: FieldError[] = [];
  const unencodable: FieldError[] = [];
  const visit = (value: unknown, parent: Place, key: string | number): void => {
    if (value !== null && typeof value === 'object') {
      stack.push({ value, parent, key, depth: parent.depth + 1 });
    } else if (typeof value === 'string' && !wellFormed(value)) {
      unencodable.push({ field: fieldOf(parent, key), reason: LONE_SURROGATE });
    }
  };
  while (stack.length > 0) {
    const place = stack.pop()!;
    if (place.depth >= MAX_JSON_DEPTH) {
      throw new InvalidInputError(
        [{ field: fieldOf(place) || 'body', reason: `nesting deeper than ${MAX_JSON_DEPTH} levels` }],
        'Malformed JSON body',
      );
    }
    const { value } = place;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i += 1) {
        visit(value[i], place, i);
      }
      continue;
    }
    for (const key in value) {
      if (!wellFormed(key)) {
        unencodable.push({ field: fieldOf(place, key), reason: `the name ${LONE_SURROGATE}` });
      } else if (PROTOTYPE_KEYS.has(key)) {
        unknownFields.push({ field: fieldOf(place, key), reason: `property ${key} should not exist` });
      } else {
        visit((value as Record<string, unknown>)[key], place, key);
      }
    }
  }
  if (unencodable.length > 0) {
    throw new InvalidInputError(unencodable.slice(0, 100), 'Malformed JSON body');
  }
  if (unknownFields.length > 0) {
    throw new InvalidInputError(unknownFields.slice(0, 100));
  }
}

/** An object or array being scanned: the member names seen (objects only) and the current member. */
interface Scope {
  names: Set<string> | undefined;
  member: string | number;
  expectsName: boolean;
}

/**
 * The field name of the first member that occurs twice in one object of a JSON text JSON.parse accepted,
 * or undefined. JSON.parse keeps the last of duplicates silently, so the request would not be the one the
 * client meant (RFC 8259 §4: names SHOULD be unique; I-JSON, RFC 7493 §2.3: MUST).
 */
export function duplicateMember(text: string): string | undefined {
  const scopes: Scope[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    const scope = scopes[scopes.length - 1];
    if (c === 0x22 /* " */) {
      // The closing quote: the next one not escaped (preceded by an even number of backslashes).
      let end = text.indexOf('"', i + 1);
      for (;;) {
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === 0x5c /* \ */) {
          backslashes += 1;
        }
        if (backslashes % 2 === 0) {
          break;
        }
        end = text.indexOf('"', end + 1);
      }
      if (scope?.names && scope.expectsName) {
        const raw = text.slice(i + 1, end);
        const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (scope.names.has(name)) {
          scope.member = name;
          return scopes
            .map((s) => s.member)
            .reduce<string>(
              (path, m) => (typeof m === 'number' ? `${path}[${m}]` : path ? `${path}.${m}` : m),
              '',
            );
        }
        scope.names.add(name);
        scope.member = name;
        scope.expectsName = false;
      }
      i = end;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      scopes.push({
        names: c === 0x7b ? new Set() : undefined,
        member: c === 0x7b ? '' : 0,
        expectsName: true,
      });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      scopes.pop();
    } else if (c === 0x2c /* , */ && scope) {
      if (scope.names) {
        scope.expectsName = true;
      } else {
        scope.member = (scope.member as number) + 1;
      }
    }
  }
  return undefined;
}

/** Parses a JSON request body (already bounded by HTTP_BODY_LIMIT_BYTES) or throws a 400 with the reason. */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) {
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ServiceError(ErrorCode.InvalidInput, `Malformed JSON body: ${(error as Error).message}`);
  }
  const duplicate = duplicateMember(text);
  if (duplicate !== undefined) {
    throw new InvalidInputError(
      [{ field: duplicate, reason: 'member appears more than once in its object' }],
      'Malformed JSON body',
    );
  }
  checkShape(value);
  return value;
}
