import { CloudEvent, ValidationError } from 'cloudevents';
import { FieldError, InvalidInputError } from '../common/errors';
import { attributeProblem } from './attribute-types';

/** The one CloudEvents version accepted. */
export const SPEC_VERSION = '1.0';

/** Required context attributes (CloudEvents 1.0 §3.1). */
const REQUIRED = ['id', 'source', 'specversion', 'type'] as const;

/** Context attributes the spec types as String (or URI/Timestamp, carried as strings) everywhere. */
const STRING_ATTRIBUTES = new Set([...REQUIRED, 'datacontenttype', 'dataschema', 'subject', 'time']);

/** CloudEvents 1.0 §3.1.1: attribute names are lower-case ASCII letters and digits. */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/** A header value as sent: printable ASCII and space (HTTP field values Node reads byte for byte). */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** JSON and every +json media type: data of these types is written as JSON text in structured mode. */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** A validated CloudEvent: its context attributes in their string form (arrival order) and its data bytes. */
export interface IncomingEvent {
  attributes: Map<string, string>;
  /** Null when the event has no data. */
  data: Buffer | null;
}

const fieldOf = (prefix: string, name: string): string => (prefix ? `${prefix}.${name}` : name);

/** An attribute value in its canonical string form (§3.1.1 type system), or why it has none. */
function canonical(name: string, value: unknown): string | { reason: string } {
  if (typeof value === 'string') {
    return value;
  }
  if (STRING_ATTRIBUTES.has(name)) {
    return { reason: `${name} must be a string` };
  }
  if (typeof value === 'boolean') {
    return String(value);
  }
  if (typeof value === 'number' && Number.isInteger(value) && value >= -2147483648 && value <= 2147483647) {
    return String(value);
  }
  return { reason: 'an attribute value must be a string, a boolean or a 32-bit integer' };
}

/**
 * Checks what the SDK does not (presence of the required attributes, which its CloudEvent would fill in
 * with a new id; the spec version, which it does not check), then lets the SDK's CloudEvent validate the
 * rest against the CloudEvents 1.0 JSON schema: non-empty strings, source as URI-reference, dataschema
 * as URI, time as RFC 3339, extension names and value types.
 */
function validate(typed: Record<string, unknown>, prefix: string, errors: FieldError[]): void {
  // An attribute refused already (a number as the id) is not reported missing as well.
  const refused = new Set(errors.map((error) => error.field));
  for (const name of REQUIRED) {
    const field = fieldOf(prefix, name);
    const refusedHeader = prefix === '' && refused.has(`header ce-${name}`);
    if ((typed[name] === undefined || typed[name] === '') && !refused.has(field) && !refusedHeader) {
      errors.push({ field, reason: `${name} is a required attribute` });
    }
  }
  if (
    typeof typed.specversion === 'string' &&
    typed.specversion !== '' &&
    typed.specversion !== SPEC_VERSION
  ) {
    errors.push({
      field: fieldOf(prefix, 'specversion'),
      reason: `specversion must be ${SPEC_VERSION} (got "${typed.specversion.slice(0, 20)}")`,
    });
  }
  if (errors.length > 0) {
    return;
  }
  try {
    new CloudEvent(typed, true);
  } catch (error) {
    if (error instanceof ValidationError && (error.errors?.length ?? 0) > 0) {
      for (const issue of error.errors! as { instancePath?: string; message?: string }[]) {
        const name = (issue.instancePath ?? '').replace(/^\//, '') || 'event';
        errors.push({ field: fieldOf(prefix, name), reason: `${name} ${issue.message ?? 'is invalid'}` });
      }
    } else {
      // The SDK's other refusals (a v0.3-only attribute on a 1.0 event, …) say it in their first line.
      errors.push({ field: prefix || 'event', reason: (error as Error).message.split('\n')[0]! });
    }
  }
}

/** Adds one attribute, or the reason it is refused. */
function addAttribute(
  name: string,
  value: unknown,
  prefix: string,
  attributes: Map<string, string>,
  typed: Record<string, unknown>,
  errors: FieldError[],
): void {
  const field = fieldOf(prefix, name);
  if (!ATTRIBUTE_NAME.test(name)) {
    errors.push({ field, reason: 'attribute names must be lower-case letters a-z and digits 0-9' });
    return;
  }
  const text = canonical(name, value);
  if (typeof text !== 'string') {
    errors.push({ field, reason: text.reason });
    return;
  }
  const problem = attributeProblem(name, text);
  if (problem !== undefined) {
    errors.push({ field, reason: problem });
    return;
  }
  attributes.set(name, text);
  typed[name] = value;
}

/**
 * A structured-mode event (the JSON event format): every member but `data`/`data_base64` is an attribute
 * (null ones are absent); `data_base64` is the data's bytes; `data` is JSON text when the datacontenttype is
 * JSON or absent, else a string's own text.
 */
export function structuredEvent(body: unknown, prefix = ''): IncomingEvent {
  const errors: FieldError[] = [];
  const event = eventOf(body, prefix, errors);
  if (errors.length > 0) {
    throw new InvalidInputError(errors, 'Invalid CloudEvent');
  }
  return event!;
}

/** Structured events of a batch (the JSON batch format), each validated; errors name their index. */
export function batchedEvents(body: unknown, maxEvents: number): IncomingEvent[] {
  if (!Array.isArray(body)) {
    throw new InvalidInputError([{ field: 'body', reason: 'a batch must be a JSON array of events' }]);
  }
  if (body.length === 0 || body.length > maxEvents) {
    throw new InvalidInputError([
      { field: 'body', reason: `a batch holds 1 to ${maxEvents} events (got ${body.length})` },
    ]);
  }
  const errors: FieldError[] = [];
  const events = body.map((item, i) => eventOf(item, `[${i}]`, errors));
  if (errors.length > 0) {
    throw new InvalidInputError(errors.slice(0, 100), 'Invalid CloudEvent');
  }
  return events as IncomingEvent[];
}

function eventOf(body: unknown, prefix: string, errors: FieldError[]): IncomingEvent | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    errors.push({ field: prefix || 'body', reason: 'an event must be a JSON object' });
    return undefined;
  }
  const start = errors.length;
  const members = body as Record<string, unknown>;
  const attributes = new Map<string, string>();
  const typed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(members)) {
    if (name === 'data' || name === 'data_base64' || value === null) {
      continue;
    }
    addAttribute(name, value, prefix, attributes, typed, errors);
  }
  // null is absent, for data and data_base64 as for every attribute: `"data": null` is an event without data.
  const given = (value: unknown): boolean => value !== undefined && value !== null;
  let data: Buffer | null = null;
  if (given(members.data) && given(members.data_base64)) {
    errors.push({ field: fieldOf(prefix, 'data'), reason: 'an event has data or data_base64, not both' });
  } else if (given(members.data_base64)) {
    if (typeof members.data_base64 !== 'string' || !BASE64.test(members.data_base64)) {
      errors.push({ field: fieldOf(prefix, 'data_base64'), reason: 'data_base64 must be a base64 string' });
    } else {
      data = Buffer.from(members.data_base64, 'base64');
    }
  } else if (given(members.data)) {
    const type = attributes.get('datacontenttype');
    const asText = typeof members.data === 'string' && type !== undefined && !JSON_MEDIA_TYPE.test(type);
    data = Buffer.from(asText ? (members.data as string) : JSON.stringify(members.data), 'utf8');
  }
  validate(typed, prefix, errors);
  if (errors.length > start) {
    return undefined;
  }
  // The JSON format: data without a datacontenttype is JSON.
  if (data !== null && given(members.data) && !attributes.has('datacontenttype')) {
    attributes.set('datacontenttype', 'application/json');
  }
  return { attributes, data };
}

/**
 * A binary-mode event (HTTP protocol binding §3.1): every `ce-` header is an attribute (its value
 * percent-decoded), Content-Type is the datacontenttype, and the body, byte for byte, is the data.
 */
export function binaryEvent(
  headers: Record<string, string | string[] | undefined>,
  body: Buffer | undefined,
): IncomingEvent {
  const errors: FieldError[] = [];
  const attributes = new Map<string, string>();
  const typed: Record<string, unknown> = {};
  for (const [header, raw] of Object.entries(headers)) {
    if (!header.startsWith('ce-') || raw === undefined) {
      continue;
    }
    const name = header.slice(3);
    const field = `header ${header}`;
    if (name === 'data' || name === 'datacontenttype') {
      errors.push({
        field,
        reason: `${name} is not an attribute header in binary mode (the body is the data, Content-Type its type)`,
      });
      continue;
    }
    const sent = [raw].flat().join(',');
    // Node reads header bytes as latin1: raw non-ASCII would be re-decoded, not carried as sent.
    if (!PRINTABLE_ASCII.test(sent)) {
      errors.push({
        field,
        reason:
          'header values must be printable ASCII: percent-encode anything else as UTF-8 (CloudEvents HTTP binding §3.1.3.2)',
      });
      continue;
    }
    let value: string;
    try {
      value = decodeURIComponent(sent);
    } catch {
      errors.push({ field, reason: 'the value has malformed percent-encoding' });
      continue;
    }
    if (!ATTRIBUTE_NAME.test(name)) {
      errors.push({ field, reason: 'attribute names must be lower-case letters a-z and digits 0-9' });
      continue;
    }
    const problem = attributeProblem(name, value);
    if (problem !== undefined) {
      errors.push({ field, reason: problem });
      continue;
    }
    attributes.set(name, value);
    typed[name] = value;
  }
  const contentType = headers['content-type'];
  if (typeof contentType === 'string' && contentType !== '') {
    const problem = attributeProblem('datacontenttype', contentType);
    if (problem === undefined) {
      attributes.set('datacontenttype', contentType);
      typed.datacontenttype = contentType;
    } else {
      errors.push({ field: 'header content-type', reason: problem });
    }
  }
  validate(typed, '', errors);
  if (errors.length > 0) {
    throw new InvalidInputError(errors, 'Invalid CloudEvent');
  }
  return { attributes, data: body === undefined || body.length === 0 ? null : body };
}
