import { Admin } from 'kafkajs';
import { RunningApp, startApp, testAdmin, uniqueTopic } from './support/app';
import { expectErrorShape } from './support/http';
import { kcatRead, kcatReadAll } from './support/kcat';
import { exchange, parseAnswers, rawRequestBytes, WireAnswer } from './support/raw-http';

/** Bytes that are no HTTP at all: the start of a TLS ClientHello, then junk. */
const NOT_HTTP = Buffer.from('\x16\x03\x01junk\r\n\r\n', 'latin1');

const json = { 'content-type': 'application/json' };

describe('a connection answers its requests in order: a refusal of later bytes never replaces an earlier answer (RFC 9112 §9.3.2)', () => {
  const topic = uniqueTopic('pipelining');
  let running: RunningApp;
  let admin: Admin;

  beforeAll(async () => {
    admin = await testAdmin();
    running = await startApp({ KAFKA_TOPIC: topic });
  });
  afterAll(async () => {
    await running?.close();
    await admin?.disconnect();
  });

  /**
   * Sends the pieces on one connection in one write (so the later bytes are parsed while the earlier
   * request is at Kafka) and returns the answers, after the server closed the connection.
   */
  const answersTo = async (...pieces: Buffer[]): Promise<WireAnswer[]> => {
    const result = await exchange(running.url, Buffer.concat(pieces));
    expect(result.closed).toBe(true);
    return parseAnswers(result.text);
  };

  const expectRecord = (answer: WireAnswer | undefined, content: string): void => {
    expect(answer?.status).toBe(200);
    const delivery = answer!.json as { partition: number; offset: number; messageId: string };
    const [record] = kcatRead(topic, delivery.partition, delivery.offset);
    expect(record?.key).toBe(delivery.messageId);
    expect(JSON.parse(record?.payload ?? '{}')).toMatchObject({ id: delivery.messageId, content });
  };

  const expectMalformed = (answer: WireAnswer | undefined): void => {
    expect(answer?.status).toBe(400);
    expectErrorShape(answer!.json!, 400);
    expect(answer!.json!.code).toBe('MALFORMED_REQUEST');
    expect(answer!.headers.connection).toBe('close');
  };

  it('a batch followed by bytes that are not HTTP gets its 200 with both offsets, then a 400', async () => {
    const [first, second, ...more] = await answersTo(
      rawRequestBytes('POST', '/api/messages/batch', json, '[{"content":"pipe-a"},{"content":"pipe-b"}]'),
      NOT_HTTP,
    );

    expect(first?.status).toBe(200);
    const results = (first!.json as { results: { partition: number; offset: number }[] }).results;
    expect(results).toHaveLength(2);
    const contents = results.map(({ partition, offset }) => {
      const [record] = kcatRead(topic, partition, offset);
      return (JSON.parse(record?.payload ?? '{}') as { content?: string }).content;
    });
    expect(contents).toEqual(['pipe-a', 'pipe-b']);
    expectMalformed(second);
    expect(more).toEqual([]);
  });

  it('a message followed by bytes that are not HTTP gets its 200 with its offset, then a 400', async () => {
    const [first, second, ...more] = await answersTo(
      rawRequestBytes('POST', '/api/messages', json, '{"content":"pipe-single"}'),
      NOT_HTTP,
    );

    expectRecord(first, 'pipe-single');
    expectMalformed(second);
    expect(more).toEqual([]);
  });

  it('a message followed by a malformed request (two Content-Length values) gets its 200, then a 400', async () => {
    const [first, second, ...more] = await answersTo(
      rawRequestBytes('POST', '/api/messages', json, '{"content":"pipe-then-bad"}'),
      Buffer.from(
        'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
        'latin1',
      ),
    );

    expectRecord(first, 'pipe-then-bad');
    expectMalformed(second);
    expect(more).toEqual([]);
  });

  it('a request refused before its body was read closes the connection: the request pipelined behind it is not processed (RFC 9112 §9.6)', async () => {
    const [first, ...more] = await answersTo(
      rawRequestBytes('POST', '/api/messages', { 'content-type': 'text/plain' }, 'not json, refused unread'),
      rawRequestBytes('POST', '/api/messages', json, '{"content":"pipe-behind-refusal"}'),
    );

    expect(first?.status).toBe(415);
    expect(first?.headers.connection).toBe('close');
    expect(more).toEqual([]);
    const contents = kcatReadAll(topic).map(
      (record) => (JSON.parse(record.payload ?? '{}') as { content?: string }).content,
    );
    expect(contents).not.toContain('pipe-behind-refusal');
  });

  it('two valid pipelined requests each get their own answer, in order', async () => {
    const [first, second] = await answersTo(
      Buffer.concat([
        rawRequestBytes('POST', '/api/messages', json, '{"content":"pipe-1"}'),
        rawRequestBytes('POST', '/api/messages', { ...json, connection: 'close' }, '{"content":"pipe-2"}'),
      ]),
    );

    expectRecord(first, 'pipe-1');
    expectRecord(second, 'pipe-2');
  });

  it.each([
    ['', {}],
    [' even with Connection: keep-alive', { connection: 'keep-alive' }],
  ])(
    'an HTTP/1.0 chunked request%s is answered and the connection closed; the request after it is not processed (RFC 9112 §6.1)',
    async (_name, keepAlive) => {
      const one = '{"content":"pipe-http10-one"}';
      const chunked = rawRequestBytes(
        'POST',
        '/api/messages',
        { ...json, ...keepAlive, 'transfer-encoding': 'chunked' },
        `${one.length.toString(16)}\r\n${one}\r\n0\r\n\r\n`,
        'HTTP/1.0',
      );
      const [first, ...more] = await answersTo(
        chunked,
        rawRequestBytes('POST', '/api/messages', json, '{"content":"pipe-http10-two"}'),
      );

      expectRecord(first, 'pipe-http10-one');
      expect(more).toEqual([]);
      const contents = kcatReadAll(topic).map(
        (record) => (JSON.parse(record.payload ?? '{}') as { content?: string }).content,
      );
      expect(contents).not.toContain('pipe-http10-two');
    },
  );
});
