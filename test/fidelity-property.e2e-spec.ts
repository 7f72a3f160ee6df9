import { isUtf8 } from 'node:buffer';
import * as zlib from 'node:zlib';
import * as fc from 'fast-check';
import { Admin } from 'kafkajs';
import { stringProblem } from '../src/events/attribute-types';
import { RunningApp, startApp, testAdmin, uniqueTopic } from './support/app';
import { expectErrorShape } from './support/http';
import { kcatRead } from './support/kcat';
import { exchange, parseAnswers, rawRequestBytes, WireAnswer } from './support/raw-http';

/*
 * Property: whatever Unicode text and metadata a client sends (astral planes, NUL, combining marks), in any
 * supported charset and content coding, on any publish route, Kafka holds exactly that text (read back with
 * kcat). And any body with bytes invalid in its declared charset is refused with 400 and publishes nothing.
 */

type Encoder = (bytes: Buffer) => Buffer;
const zstdCompressSync = (zlib as unknown as { zstdCompressSync?: Encoder }).zstdCompressSync;

const CODINGS: [string, Encoder][] = [
  ['identity', (bytes) => bytes],
  ['gzip', (bytes) => zlib.gzipSync(bytes)],
  ['deflate', (bytes) => zlib.deflateSync(bytes)],
  ['br', (bytes) => zlib.brotliCompressSync(bytes)],
  ...(zstdCompressSync ? [['zstd', zstdCompressSync] as [string, Encoder]] : []),
];

/** The charsets that can carry `text`, with its bytes in each. */
function encodings(text: string): [string, Buffer][] {
  const all: [string, Buffer][] = [
    ['utf-8', Buffer.from(text, 'utf8')],
    ['utf-16le', Buffer.from(text, 'utf16le')],
    ['utf-16be', Buffer.from(text, 'utf16le').swap16()],
  ];
  if ([...text].every((character) => character.codePointAt(0)! <= 0xff)) {
    all.push(['iso-8859-1', Buffer.from(text, 'latin1')]);
  }
  if ([...text].every((character) => character.codePointAt(0)! <= 0x7f)) {
    all.push(['us-ascii', Buffer.from(text, 'latin1')]);
  }
  return all;
}

/** Text with everything: any code point (astral, NUL, controls), and runs of combining marks. */
const anyText = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
      fc.constantFrom('e\u0301\u0327', '\u0000', '𝄞', '👩‍👩‍👧', 'ﷺ', 'a\u20dd', '\u00ff', 'plain'),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((parts) => parts.join(''))
  .filter((text) => /\S/.test(text));

/** Metadata keys must not name prototypes (refused as unknown fields). */
const metadata = fc.option(
  fc.dictionary(
    fc
      .string({ unit: 'binary', minLength: 1, maxLength: 12 })
      .filter((key) => !['__proto__', 'constructor', 'prototype'].includes(key)),
    fc.string({ unit: 'binary', maxLength: 20 }),
    { maxKeys: 4 },
  ),
  { nil: undefined },
);

type Route = 'message' | 'batch' | 'simple' | 'structured-event' | 'binary-event';
const ROUTES: Route[] = ['message', 'batch', 'simple', 'structured-event', 'binary-event'];

describe('property: any text, charset, content coding and route comes back from Kafka as sent', () => {
  const topic = uniqueTopic('fidelity-property');
  const eventsTopic = uniqueTopic('fidelity-property-events');
  const refusedTopic = uniqueTopic('fidelity-property-refused');
  let running: RunningApp;
  let refusing: RunningApp;
  let admin: Admin;

  beforeAll(async () => {
    admin = await testAdmin();
    running = await startApp({
      KAFKA_TOPIC: topic,
      CLOUDEVENTS_TOPIC: eventsTopic,
      MESSAGE_MAX_CONTENT_LENGTH: '100000',
      KAFKA_PRODUCER_COMPRESSION: 'none',
    });
    refusing = await startApp({ KAFKA_TOPIC: refusedTopic, CLOUDEVENTS_TOPIC: refusedTopic });
  });
  afterAll(async () => {
    await running?.close();
    await refusing?.close();
    await admin?.disconnect();
  });

  const send = async (app: RunningApp, bytes: Buffer): Promise<WireAnswer> => {
    const result = await exchange(app.url, bytes);
    const [answer] = parseAnswers(result.text);
    expect(answer).toBeDefined();
    return answer!;
  };

  const where = (answer: WireAnswer, index = 0): { partition: number; offset: number } => {
    const json = answer.json as {
      partition?: number;
      offset?: number;
      results?: { partition: number; offset: number }[];
    };
    return json.results ? json.results[index]! : { partition: json.partition!, offset: json.offset! };
  };

  it('valid requests: the record holds exactly the text and metadata sent', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        anyText,
        metadata,
        fc.nat(),
        fc.constantFrom(...CODINGS),
        async (route, text, meta, charsetPick, [coding, encode]) => {
          const close = { connection: 'close' };
          if (route === 'simple') {
            const answer = await send(
              running,
              rawRequestBytes('POST', `/api/messages/simple?content=${encodeURIComponent(text)}`, close),
            );
            expect(answer.status).toBe(200);
            const { partition, offset } = where(answer);
            const [record] = kcatRead(topic, partition, offset);
            expect((JSON.parse(record!.payload!) as { content: string }).content).toBe(text);
            return;
          }
          if (route === 'binary-event') {
            const answer = await send(
              running,
              rawRequestBytes(
                'POST',
                '/api/events',
                {
                  ...close,
                  'content-type': 'text/plain; charset=utf-8',
                  'content-encoding': coding,
                  'ce-specversion': '1.0',
                  'ce-id': `bin-${Date.now()}-${Math.random()}`,
                  'ce-source': '/property',
                  'ce-type': 'property.binary',
                  'ce-subject': encodeURIComponent(text),
                },
                encode(Buffer.from(text, 'utf8')),
              ),
            );
            if (stringProblem(text) !== undefined) {
              // Control characters and noncharacters are not a CloudEvents String: refused, never altered.
              expect(answer.status).toBe(400);
              return;
            }
            expect(answer.status).toBe(200);
            const { partition, offset } = where(answer);
            const [record] = kcatRead(eventsTopic, partition, offset);
            expect(record?.payload).toBe(text);
            expect(record?.headers.ce_subject).toBe(text);
            return;
          }
          const json =
            route === 'message'
              ? { content: text, ...(meta ? { metadata: meta } : {}) }
              : route === 'batch'
                ? [{ content: 'first' }, { content: text, ...(meta ? { metadata: meta } : {}) }]
                : {
                    specversion: '1.0',
                    id: `st-${Date.now()}-${Math.random()}`,
                    source: '/property',
                    type: 'property.structured',
                    datacontenttype: 'text/plain',
                    data: text,
                  };
          const choices = encodings(JSON.stringify(json));
          const [charset, bytes] = choices[charsetPick % choices.length]!;
          const type = route === 'structured-event' ? 'application/cloudevents+json' : 'application/json';
          const answer = await send(
            running,
            rawRequestBytes(
              'POST',
              route === 'structured-event'
                ? '/api/events'
                : route === 'batch'
                  ? '/api/messages/batch'
                  : '/api/messages',
              { ...close, 'content-type': `${type}; charset=${charset}`, 'content-encoding': coding },
              encode(bytes),
            ),
          );
          expect({ route, charset, coding, status: answer.status }).toEqual({
            route,
            charset,
            coding,
            status: 200,
          });
          const { partition, offset } = where(answer, route === 'batch' ? 1 : 0);
          const [record] = kcatRead(route === 'structured-event' ? eventsTopic : topic, partition, offset);
          if (route === 'structured-event') {
            expect(record?.payload).toBe(text);
          } else {
            const written = JSON.parse(record!.payload!) as { content: string; metadata: unknown };
            expect(written.content).toBe(text);
            expect(written.metadata).toEqual(meta ?? null);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('bytes invalid in the declared charset are a 400 naming their offset, and nothing is published', async () => {
    /** Byte sequences invalid in each charset, and how the valid text around them is encoded. */
    const invalid: Record<string, { bad: fc.Arbitrary<Uint8Array>; encode: (text: string) => Buffer }> = {
      'utf-8': {
        bad: fc.uint8Array({ minLength: 1, maxLength: 8 }).filter((bytes) => !isUtf8(bytes)),
        encode: (text) => Buffer.from(text, 'utf8'),
      },
      'us-ascii': {
        bad: fc.uint8Array({ minLength: 1, maxLength: 4 }).map((bytes) => bytes.map((byte) => byte | 0x80)),
        encode: (text) => Buffer.from(text, 'latin1'),
      },
      'utf-16le': {
        // A surrogate code unit between ASCII characters: unpaired, whether high or low.
        bad: fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => Uint8Array.of(unit & 0xff, unit >> 8)),
        encode: (text) => Buffer.from(text, 'utf16le'),
      },
      'utf-16be': {
        bad: fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => Uint8Array.of(unit >> 8, unit & 0xff)),
        encode: (text) => Buffer.from(text, 'utf16le').swap16(),
      },
    };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api/messages', '/api/messages/batch', '/api/events'),
        fc.string({ unit: 'grapheme-ascii', maxLength: 10 }).map((s) => s.replace(/["\\]/g, '')),
        fc
          .constantFrom(...Object.keys(invalid))
          .chain((charset) => invalid[charset]!.bad.map((bad) => ({ charset, bad }))),
        fc.constantFrom(...CODINGS),
        async (path, prefix, { charset, bad }, [coding, encode]) => {
          const [before, after] =
            path === '/api/messages'
              ? [`{"content":"${prefix}`, '"}']
              : path === '/api/messages/batch'
                ? [`[{"content":"${prefix}`, '"}]']
                : [
                    `{"specversion":"1.0","id":"x","source":"/s","type":"t","datacontenttype":"text/plain","data":"${prefix}`,
                    '"}',
                  ];
          const { encode: inCharset } = invalid[charset]!;
          const body = Buffer.concat([inCharset(before), Buffer.from(bad), inCharset(after)]);
          const type = path === '/api/events' ? 'application/cloudevents+json' : 'application/json';
          const answer = await send(
            refusing,
            rawRequestBytes(
              'POST',
              path,
              {
                connection: 'close',
                'content-type': `${type}; charset=${charset}`,
                'content-encoding': coding,
              },
              encode(body),
            ),
          );
          expect({ charset, status: answer.status }).toEqual({ charset, status: 400 });
          expectErrorShape(answer.json!, 400);
          expect(JSON.stringify(answer.json)).toMatch(new RegExp(`${charset}.*byte offset \\d+`));
        },
      ),
      { numRuns: 80 },
    );

    const offsets = await admin.fetchTopicOffsets(refusedTopic);
    expect(offsets.map((partition) => partition.high).filter((high) => high !== '0')).toEqual([]);
  });
});
