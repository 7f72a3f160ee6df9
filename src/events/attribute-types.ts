/*
 * The CloudEvents 1.0 type system (§3.1.1) for attribute values in their string form: each context
 * attribute checked as the type the spec gives it, so that what is written as a Kafka header is a value
 * every consumer can read back. The SDK's JSON-schema check runs after these and catches the rest.
 */

const hex = (codePoint: number): string => codePoint.toString(16).toUpperCase().padStart(4, '0');

/**
 * Why `value` is not a CloudEvents String, or undefined: control characters (U+0000–U+001F,
 * U+007F–U+009F), unpaired surrogates and Unicode noncharacters are not allowed.
 */
export function stringProblem(value: string): string | undefined {
  for (const character of value) {
    const codePoint = character.codePointAt(0)!;
    if (codePoint <= 0x1f || (codePoint >= 0x7f && codePoint <= 0x9f)) {
      return `must not contain control characters (U+${hex(codePoint)})`;
    }
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
      return `must not contain an unpaired surrogate (U+${hex(codePoint)})`;
    }
    if ((codePoint >= 0xfdd0 && codePoint <= 0xfdef) || (codePoint & 0xfffe) === 0xfffe) {
      return `must not contain a Unicode noncharacter (U+${hex(codePoint)})`;
    }
  }
  return undefined;
}

/** RFC 3339 §5.6 date-time: the offset is required (Z, or ±hh:mm with the colon). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

function timestampProblem(value: string): string | undefined {
  const match = RFC3339.exec(value);
  const reason = 'must be an RFC 3339 timestamp with a time-zone offset (2018-04-05T17:31:00Z, …+02:00)';
  if (!match) {
    return reason;
  }
  const [, year, month, day, hour, minute, second, offsetHour = '00', offsetMinute = '00'] = match;
  const y = Number(year);
  const m = Number(month);
  const daysInMonth = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const valid =
    m >= 1 &&
    m <= 12 &&
    Number(day) >= 1 &&
    Number(day) <= daysInMonth &&
    Number(hour) <= 23 &&
    Number(minute) <= 59 &&
    Number(second) <= 60 &&
    Number(offsetHour) <= 23 &&
    Number(offsetMinute) <= 59;
  return valid ? undefined : reason;
}

/** RFC 3986 characters (unreserved, reserved, %): a URI is ASCII, anything else is percent-encoded. */
const URI_CHARACTERS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

function uriProblem(value: string, absolute: boolean): string | undefined {
  if (!URI_CHARACTERS.test(value)) {
    return 'must be a URI: RFC 3986 characters only, anything else percent-encoded';
  }
  if (absolute && !SCHEME.test(value)) {
    return 'must be an absolute URI (with a scheme)';
  }
  return undefined;
}

/** RFC 9110 §8.3.1 media-type: type "/" subtype *( OWS ";" OWS parameter ), tokens and quoted strings. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t \\x21-\\x7e])*"';
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*(?:${TOKEN}=(?:${TOKEN}|${QUOTED}))?)*$`);

/** The type (§3.1.1) of each context attribute the spec defines; extensions are Strings when strings. */
const TYPES: Record<string, (value: string) => string | undefined> = {
  source: (value) => uriProblem(value, false),
  dataschema: (value) => uriProblem(value, true),
  time: timestampProblem,
  datacontenttype: (value) => (MEDIA_TYPE.test(value) ? undefined : 'must be a media type (RFC 9110 §8.3.1)'),
};

/** Why the string form of attribute `name` is not a value of its CloudEvents type, or undefined. */
export function attributeProblem(name: string, value: string): string | undefined {
  const problem = stringProblem(value) ?? TYPES[name]?.(value);
  return problem === undefined ? undefined : `${name} ${problem}`;
}
