import { useContainer, validateSync } from 'class-validator';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { MessageDto } from '../messages/dto/message.dto';
import { SendOptionsQuery, SimpleMessageQuery } from '../messages/dto/send-options.query';
import { MESSAGE_RULES } from '../messages/message-rules';
import { InvalidInputError } from './errors';
import { toFieldErrors, validateDto, VALIDATOR_OPTIONS } from './validation';

/** A small deterministic generator (mulberry32), so a failure names an input that can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values that sit on either side of every rule the DTOs have (types, blanks, lengths, formats). */
const VALUES: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  'x',
  'order-42',
  'has space',
  'é',
  'x'.repeat(128),
  'x'.repeat(129),
  'x'.repeat(256),
  'x'.repeat(257),
  'x'.repeat(2000),
  'INFO',
  'ERROR',
  'info',
  'TRACE',
  '2025-01-01T12:00:00Z',
  '2025-01-01T12:00:00.123+02:00',
  '2025-13-01T12:00:00Z',
  '2025-01-01',
  'yesterday',
  0,
  42,
  true,
  [],
  ['a'],
  {},
  { tenant: 'acme' },
  { tenant: 1 },
  { '': 'empty key' },
  Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'v'])),
];
/** Valid values of each field, so that a good share of the inputs passes every rule. */
const GOOD: Record<string, unknown[]> = {
  id: ['order-42', 'x', undefined],
  content: ['hello', 'x'.repeat(1000)],
  type: ['INFO', 'ERROR', undefined],
  timestamp: ['2025-01-01T12:00:00Z', undefined],
  source: ['api-test', undefined],
  metadata: [{ tenant: 'acme' }, {}, undefined],
  key: ['customer-7', undefined],
};

/** Each field valid, or (one time in `badness`) any value at all; now and then a field no DTO has. */
function anObject(next: () => number, badness: number, fields: string[]): Record<string, unknown> {
  const pick = <T>(values: T[]): T => values[Math.floor(next() * values.length)]!;
  const object: Record<string, unknown> = {};
  for (const field of fields) {
    const value = next() < 1 / badness ? pick(VALUES) : pick(GOOD[field]!);
    if (value !== undefined || next() < 0.2) {
      object[field] = value;
    }
  }
  if (next() < 0.05) {
    object[pick(['extra', 'id', 'key', '__proto__', 'constructor', 'toString'])] = 'x';
  }
  return object;
}

/**
 * The expected answer for `plain`: every member the DTO does not declare is unknown, whatever its name
 * (class-validator's own whitelist lets `constructor` or `toString` through), then class-validator's answer
 * for the declared ones. 'valid', or the field errors.
 */
function expectedAnswer(
  type: new () => object,
  fields: readonly string[],
  plain: Record<string, unknown>,
): unknown {
  const declared = Object.keys(plain).filter((key) => fields.includes(key));
  const unknown = Object.keys(plain)
    .filter((key) => !fields.includes(key))
    .map((key) => ({ field: key, reason: `property ${key} should not exist` }));
  const instance = Object.assign(new type(), Object.fromEntries(declared.map((key) => [key, plain[key]])));
  const errors = [...unknown, ...toFieldErrors(validateSync(instance, VALIDATOR_OPTIONS))];
  return errors.length === 0 ? 'valid' : errors;
}

function validateDtoAnswer(type: new () => object, plain: Record<string, unknown>): unknown {
  try {
    validateDto(type, plain);
    return 'valid';
  } catch (error) {
    if (error instanceof InvalidInputError) {
      return error.details;
    }
    throw error;
  }
}

describe('validateDto', () => {
  beforeAll(() => {
    // As configureApp does: the configurable rules come from a container, with small limits here.
    const config = new AppConfig(
      validateEnvironment({
        MESSAGE_MAX_CONTENT_LENGTH: '1000',
        MESSAGE_MAX_METADATA_ENTRIES: '4',
        MESSAGE_MAX_METADATA_VALUE_LENGTH: '100',
      }),
    );
    const rules = new Map<unknown, unknown>(MESSAGE_RULES.map((Rule) => [Rule, new Rule(config)]));
    useContainer({ get: (someClass: unknown) => rules.get(someClass) }, { fallback: true });
  });

  it.each([
    [MessageDto, ['id', 'content', 'type', 'timestamp', 'source', 'metadata']],
    [SendOptionsQuery, ['key']],
    [SimpleMessageQuery, ['key', 'content', 'type']],
  ] as const)(
    'answers as class-validator does for the declared members of %p and names every other one (5,000 generated inputs)',
    (type, fields) => {
      const next = random(20261126);
      let valid = 0;
      for (let i = 0; i < 5000; i += 1) {
        const plain = anObject(next, 1 + (i % 8), [...fields]);
        const expected = expectedAnswer(type, fields, plain);
        if (expected === 'valid') {
          valid += 1;
        }
        expect({ input: plain, answer: validateDtoAnswer(type, plain) }).toEqual({
          input: plain,
          answer: expected,
        });
      }
      // Both sides of the rules were exercised.
      expect(valid).toBeGreaterThan(200);
      expect(5000 - valid).toBeGreaterThan(200);
    },
  );

  it.each(['hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'constructor', 'toString', '__proto__'])(
    'names a member called %s unknown, as any other undeclared member',
    (name) => {
      const plain = JSON.parse(`{"content":"x","${name}":"y"}`) as Record<string, unknown>;
      expect(validateDtoAnswer(MessageDto, plain)).toEqual([
        { field: name, reason: `property ${name} should not exist` },
      ]);
    },
  );

  it('returns an instance of the DTO class with the fields as sent', () => {
    const message = validateDto(MessageDto, { content: 'hello', type: 'INFO', metadata: { a: 'b' } });

    expect(message).toBeInstanceOf(MessageDto);
    expect(message).toMatchObject({ content: 'hello', type: 'INFO', metadata: { a: 'b' } });
  });
});
