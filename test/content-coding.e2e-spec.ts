import * as zlib from 'node:zlib';
import { RunningApp, startApp, uniqueTopic } from './support/app';
import { expectErrorShape } from './support/http';
import { kcatRead, kcatReadAll } from './support/kcat';
import { exchange, parseAnswers, rawRequestBytes, WireAnswer } from './support/raw-http';

type Encoder = (bytes: Buffer) => Buffer;

const zstdCompressSync = (zlib as unknown as { zstdCompressSync?: Encoder }).zstdCompressSync;

/** Every content coding the runtime can decode, with its encoder. */
const CODINGS: [string, Encoder][] = [
  ['gzip', (bytes) => zlib.gzipSync(bytes)],
  ['x-gzip', (bytes) => zlib.gzipSync(bytes)],
  ['deflate', (bytes) => zlib.deflateSync(bytes)],
  ['br', (bytes) => zlib.brotliCompressSync(bytes)],
  ...(zstdCompressSync ? [['zstd', zstdCompressSync] as [string, Encoder]] : []),
];

const LIMIT = 65536;

describe('request bodies with a Content-Encoding are decoded, within the body limit (RFC 9110 §8.4)', () => {
  const topic = uniqueTopic('content-coding');
  const eventsTopic = uniqueTopic('content-coding-events');
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({
      KAFKA_TOPIC: topic,
      CLOUDEVENTS_TOPIC: eventsTopic,
      HTTP_BODY_LIMIT_BYTES: String(LIMIT),
    });
  });
  afterAll(async () => {
    await running?.close();
  });

  const send = async (path: string, headers: Record<string, string>, body: Buffer): Promise<WireAnswer> => {
    const result = await exchange(
      running.url,
      rawRequestBytes('POST', path, { connection: 'close', ...headers }, body),
    );
    return parseAnswers(result.text)[0]!;
  };

  const contents = (): unknown[] =>
    kcatReadAll(topic).map((record) => (JSON.parse(record.payload ?? '{}') as { content?: unknown }).content);

  it.each(CODINGS)('a %s JSON body is written as the text it decodes to', async (coding, encode) => {
    const content = `${coding}: café 𝄞 ${'repeat '.repeat(50)}`;
    const answer = await send(
      '/api/messages',
      { 'content-type': 'application/json', 'content-encoding': coding },
      encode(Buffer.from(JSON.stringify({ content }))),
    );

    expect(answer.status).toBe(200);
    const { partition, offset } = answer.json as { partition: number; offset: number };
    const [record] = kcatRead(topic, partition, offset);
    expect((JSON.parse(record?.payload ?? '{}') as { content: string }).content).toBe(content);
  });

  it('a gzip body in a declared latin1 charset is decompressed, then decoded by its charset', async () => {
    const answer = await send(
      '/api/messages/batch',
      { 'content-type': 'application/json; charset=latin1', 'content-encoding': 'gzip' },
      zlib.gzipSync(Buffer.from('[{"content":"gzip latin1 café"}]', 'latin1')),
    );

    expect(answer.status).toBe(200);
    const { partition, offset } = (answer.json as { results: { partition: number; offset: number }[] })
      .results[0]!;
    const [record] = kcatRead(topic, partition, offset);
    expect((JSON.parse(record?.payload ?? '{}') as { content: string }).content).toBe('gzip latin1 café');
  });

  it('codings applied one after the other (deflate, then gzip) are undone in reverse order', async () => {
    const answer = await send(
      '/api/messages',
      { 'content-type': 'application/json', 'content-encoding': 'deflate, gzip' },
      zlib.gzipSync(zlib.deflateSync(Buffer.from('{"content":"two codings"}'))),
    );

    expect(answer.status).toBe(200);
    const { partition, offset } = answer.json as { partition: number; offset: number };
    expect(kcatRead(topic, partition, offset)[0]?.payload).toContain('"two codings"');
  });

  it('a binary-mode CloudEvent with a gzip body has the decoded bytes as its data', async () => {
    const data = Buffer.from(`<event>${'gzip data '.repeat(40)}</event>`);
    const answer = await send(
      '/api/events',
      {
        'content-type': 'application/octet-stream',
        'content-encoding': 'gzip',
        'ce-specversion': '1.0',
        'ce-id': 'gzip-event-1',
        'ce-source': '/content-coding',
        'ce-type': 'test.gzip',
      },
      zlib.gzipSync(data),
    );

    expect(answer.status).toBe(200);
    const { partition, offset } = answer.json as { partition: number; offset: number };
    const [record] = kcatRead(eventsTopic, partition, offset);
    expect(record?.payload).toBe(data.toString('latin1'));
  });

  it('a zip bomb is a 413 once the decoded bytes pass the limit, without inflating it all in memory', async () => {
    // 256 MiB of zeros, a few hundred bytes compressed.
    const bomb = zlib.brotliCompressSync(Buffer.alloc(256 * 1024 * 1024), {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 },
    });
    expect(bomb.length).toBeLessThan(LIMIT);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const started = Date.now();

    const answer = await send(
      '/api/messages',
      { 'content-type': 'application/json', 'content-encoding': 'br' },
      bomb,
    );

    expect(answer.status).toBe(413);
    expectErrorShape(answer.json!, 413);
    expect(answer.json!.message).toMatch(/once decoded/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('an unknown content coding is a 415 listing the accepted ones in Accept-Encoding, nothing published (RFC 9110 §15.5.16)', async () => {
    const answer = await send(
      '/api/messages',
      { 'content-type': 'application/json', 'content-encoding': 'compress' },
      Buffer.from('{"content":"compress coded"}'),
    );

    expect(answer.status).toBe(415);
    expectErrorShape(answer.json!, 415);
    expect(answer.json!.message).toMatch(/"compress"/);
    expect(answer.headers['accept-encoding']).toMatch(/^identity, gzip, deflate, br/);
    expect(contents()).not.toContain('compress coded');
  });

  it('a body that is not valid data of its coding is a 400, nothing published', async () => {
    const answer = await send(
      '/api/messages',
      { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      Buffer.from('{"content":"not gzip at all"}'),
    );

    expect(answer.status).toBe(400);
    expectErrorShape(answer.json!, 400);
    expect(answer.json!.message).toMatch(/not valid gzip/);
    expect(contents()).not.toContain('not gzip at all');
  });

  it('a transfer coding other than chunked is a 501, and its bytes are never written as data (RFC 9112 §6.1)', async () => {
    const gzipped = zlib.gzipSync(Buffer.from('transfer-coded data'));
    const chunked = Buffer.concat([
      Buffer.from(`${gzipped.length.toString(16)}\r\n`),
      gzipped,
      Buffer.from('\r\n0\r\n\r\n'),
    ]);
    const answer = await send(
      '/api/events',
      {
        'content-type': 'text/plain',
        'transfer-encoding': 'gzip, chunked',
        'ce-specversion': '1.0',
        'ce-id': 'te-gzip-1',
        'ce-source': '/content-coding',
        'ce-type': 'test.te',
      },
      chunked,
    );

    expect(answer.status).toBe(501);
    expectErrorShape(answer.json!, 501);
    expect(answer.json!.code).toBe('NOT_IMPLEMENTED');
    expect(kcatReadAll(eventsTopic).map((record) => record.headers.ce_id)).not.toContain('te-gzip-1');
  });
});
