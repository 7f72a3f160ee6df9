import { InvalidInputError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { batchedEvents, binaryEvent, structuredEvent } from './cloud-event';
import { eventPublication } from './event-record';

const base = { specversion: '1.0', id: 'e-1', source: '/s', type: 'com.example.t' };

/** The field errors a refused event is answered with. */
function refusal(fn: () => unknown): { field: string; reason: string }[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).details ?? [];
  }
  throw new Error('the event was accepted');
}

describe(structuredEvent.name, () => {
  it.each([
    ['JSON data without a datacontenttype, as JSON text', { data: { a: 1 } }, '{"a":1}'],
    [
      'a string with a JSON datacontenttype, as a JSON string',
      { datacontenttype: 'application/json', data: 'hi' },
      '"hi"',
    ],
    [
      'a string with a +json datacontenttype, as a JSON string',
      { datacontenttype: 'application/vnd.x+json', data: 'hi' },
      '"hi"',
    ],
    [
      'a string with another datacontenttype, as its own text',
      { datacontenttype: 'text/plain', data: 'hi' },
      'hi',
    ],
    [
      'data_base64, as its bytes',
      { data_base64: Buffer.from([0, 255, 1]).toString('base64') },
      '\u0000\uFFFD\u0001',
    ],
  ])('writes %s', (_name, members, value) => {
    const event = structuredEvent({ ...base, ...members });
    expect(event.data?.toString('utf8')).toBe(value);
  });

  it('keeps data_base64 bytes exactly (no text round trip)', () => {
    const bytes = Buffer.from([0, 255, 128, 7]);
    expect(structuredEvent({ ...base, data_base64: bytes.toString('base64') }).data).toEqual(bytes);
  });

  it('treats null attributes as absent and writes integers and booleans in their string form', () => {
    const event = structuredEvent({ ...base, subject: null, count: -3, ok: false });
    expect([...event.attributes]).toEqual([
      ['specversion', '1.0'],
      ['id', 'e-1'],
      ['source', '/s'],
      ['type', 'com.example.t'],
      ['count', '-3'],
      ['ok', 'false'],
    ]);
  });

  it.each([
    ['data and data_base64 together', { data: 'a', data_base64: 'YQ==' }, 'data'],
    ['invalid base64', { data_base64: 'not base64!' }, 'data_base64'],
    ['an integer past 32 bits', { big: 2 ** 31 }, 'big'],
    ['a fraction', { ratio: 0.5 }, 'ratio'],
    ['a required attribute that is not a string', { id: 7 }, 'id'],
    ['an empty source', { source: '' }, 'source'],
    ['a dataschema that is not a URI', { dataschema: 'not a uri' }, 'dataschema'],
  ])('refuses %s, naming the attribute', (_name, members, field) => {
    expect(refusal(() => structuredEvent({ ...base, ...members })).map((e) => e.field)).toEqual([field]);
  });

  it('refuses what is not a JSON object', () => {
    expect(refusal(() => structuredEvent([base]))).toEqual([
      { field: 'body', reason: 'an event must be a JSON object' },
    ]);
  });
});

describe(batchedEvents.name, () => {
  it('refuses an empty batch and one over the limit', () => {
    expect(refusal(() => batchedEvents([], 2))[0]?.reason).toMatch(/1 to 2 events \(got 0\)/);
    expect(refusal(() => batchedEvents([base, base, base], 2))[0]?.reason).toMatch(/got 3/);
  });
});

describe(binaryEvent.name, () => {
  it('percent-decodes header values and takes Content-Type as the datacontenttype', () => {
    const event = binaryEvent(
      {
        'ce-specversion': '1.0',
        'ce-id': '1',
        'ce-source': '/s',
        'ce-type': 't',
        'ce-subject': 'a%20b',
        'content-type': 'text/csv',
      },
      Buffer.from('a,b'),
    );
    expect(event.attributes.get('subject')).toBe('a b');
    expect(event.attributes.get('datacontenttype')).toBe('text/csv');
    expect(event.data?.toString()).toBe('a,b');
  });

  it('has no data for an empty body', () => {
    expect(
      binaryEvent(
        { 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/s', 'ce-type': 't' },
        Buffer.alloc(0),
      ).data,
    ).toBeNull();
  });
});

describe(eventPublication.name, () => {
  const config = new AppConfig(
    validateEnvironment({ CLOUDEVENTS_TOPIC: 'events', CLOUDEVENTS_TYPE_TOPICS: 'a.b=topic-a, x=y=topic-x' }),
  );

  it('routes by exact type, splitting each entry at its last "="', () => {
    const topicOf = (type: string): string =>
      eventPublication(structuredEvent({ ...base, type }), config).topic;
    expect([topicOf('a.b'), topicOf('x=y'), topicOf('a.b.c')]).toEqual(['topic-a', 'topic-x', 'events']);
  });

  it('keys by partitionkey, else the id', () => {
    expect(eventPublication(structuredEvent({ ...base, partitionkey: 'pk' }), config).key).toBe('pk');
    expect(eventPublication(structuredEvent(base), config).key).toBe('e-1');
  });
});
