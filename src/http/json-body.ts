import { ErrorCode, FieldError, InvalidInputError, ServiceError } from '../common/errors';

/** application/json and every +json type (application/cloudevents+json, …). */
export const JSON_CONTENT_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** Deeper than any valid request (a batch is 3 levels: array, message, metadata). */
export const MAX_JSON_DEPTH = 32;

/** Keys that reach an object's prototype when a library merges or assigns them. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function fieldOf(parent: string, key: string | number): string {
  if (typeof key === 'number') {
    return `${parent}[${key}]`;
  }
  return parent ? `${parent}.${key}` : key;
}

/**
 * Walks a parsed body without recursion (JSON.parse accepts any depth; a recursive validator would
 * overflow the stack on a deep one), refusing what no valid request holds: nesting deeper than
 * MAX_JSON_DEPTH, and prototype keys anywhere, named as the unknown fields they are.
 */
function checkShape(root: unknown): void {
  const stack: { value: unknown; field: string; depth: number }[] = [{ value: root, field: '', depth: 0 }];
  const unknownFields: FieldError[] = [];
  while (stack.length > 0) {
    const { value, field, depth } = stack.pop()!;
    if (value === null || typeof value !== 'object') {
      continue;
    }
    if (depth >= MAX_JSON_DEPTH) {
      throw new InvalidInputError(
        [{ field: field || 'body', reason: `nesting deeper than ${MAX_JSON_DEPTH} levels` }],
        'Malformed JSON body',
      );
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i += 1) {
        stack.push({ value: value[i], field: fieldOf(field, i), depth: depth + 1 });
      }
      continue;
    }
    for (const key of Object.keys(value)) {
      const child = fieldOf(field, key);
      if (PROTOTYPE_KEYS.has(key)) {
        unknownFields.push({ field: child, reason: `property ${key} should not exist` });
        continue;
      }
      stack.push({ value: (value as Record<string, unknown>)[key], field: child, depth: depth + 1 });
    }
  }
  if (unknownFields.length > 0) {
    throw new InvalidInputError(unknownFields.slice(0, 100));
  }
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
  checkShape(value);
  return value;
}
