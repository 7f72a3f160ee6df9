import { Admin } from 'kafkajs';
import { RunningApp, startApp, testAdmin, uniqueTopic } from './support/app';
import { expectErrorShape } from './support/http';
import { kcatRead, kcatReadAll } from './support/kcat';
import { exchange, parseAnswers, rawRequestBytes, WireAnswer } from './support/raw-http';

/*
 * A record holds exactly the text the client sent: bodies decoded by their declared charset, URLs by
 * strict percent-decoding, JSON without silently dropped members. Whatever cannot be decoded exactly is
 * refused, and nothing is published for it (read back with kcat).
 */

describe('request bodies and URLs are decoded exactly, or refused with nothing published', () => {
  const topic = uniqueTopic('body-fidelity');
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

  /** One request on its own connection, as bytes; its answer. */
  const send = async (
    path: string,
    body: Buffer | string,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ): Promise<WireAnswer> => {
    const result = await exchange(
      running.url,
      rawRequestBytes('POST', path, { connection: 'close', ...headers }, body),
    );
    const [answer] = parseAnswers(result.text);
    return answer!;
  };

  const contentWritten = (answer: WireAnswer): unknown => {
    expect(answer.status).toBe(200);
    const { partition, offset } = answer.json as { partition: number; offset: number };
    const [record] = kcatRead(topic, partition, offset);
    return (JSON.parse(record?.payload ?? '{}') as { content?: unknown }).content;
  };

  const publishedContents = (): unknown[] =>
    kcatReadAll(topic).map((record) => (JSON.parse(record.payload ?? '{}') as { content?: unknown }).content);

  const expectRefused = (answer: WireAnswer, status: number, text: RegExp): void => {
    expect(answer.status).toBe(status);
    expectErrorShape(answer.json!, status);
    expect(JSON.stringify(answer.json)).toMatch(text);
  };

  it('a body without a charset is UTF-8: astral, combining and NUL characters are written as sent', async () => {
    const content = 'café 𝄞 e\u0301 \u0000 end';
    expect(contentWritten(await send('/api/messages', JSON.stringify({ content })))).toBe(content);
  });

  it.each([
    ['charset=latin1', 'latin1'],
    ['charset=ISO-8859-1', 'latin1'],
    ['charset="utf-8"', 'utf8'],
    ['charset=utf-16le', 'utf16le'],
  ] as const)('a body in its declared %s is decoded by it', async (parameter, encoding) => {
    const content = `café ÿ ${parameter}`;
    const answer = await send('/api/messages', Buffer.from(JSON.stringify({ content }), encoding), {
      'content-type': `application/json; ${parameter}`,
    });
    expect(contentWritten(answer)).toBe(content);
  });

  it('a body in UTF-16BE is decoded by it', async () => {
    const content = 'utf-16be 𝄞 café';
    const bytes = Buffer.from(JSON.stringify({ content }), 'utf16le').swap16();
    const answer = await send('/api/messages', bytes, {
      'content-type': 'application/json; charset=utf-16be',
    });
    expect(contentWritten(answer)).toBe(content);
  });

  it('a leading UTF-8 byte order mark is ignored (RFC 8259 §8.1)', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"content":"after a BOM"}')]);
    expect(contentWritten(await send('/api/messages', body))).toBe('after a BOM');
  });

  it('bytes invalid in UTF-8 are a 400 naming their offset, and nothing is published', async () => {
    const body = Buffer.concat([
      Buffer.from('{"content":"a'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('b-invalid-utf8"}'),
    ]);
    expectRefused(await send('/api/messages', body), 400, /utf-8.*byte offset 13/);
    expect(publishedContents().filter((c) => String(c).includes('invalid-utf8'))).toEqual([]);
  });

  it('a byte over 0x7F in a us-ascii body is a 400 naming its offset', async () => {
    const answer = await send('/api/messages', Buffer.from('{"content":"caf\u00e9-ascii"}', 'latin1'), {
      'content-type': 'application/json; charset=us-ascii',
    });
    expectRefused(answer, 400, /us-ascii.*byte offset 15/);
  });

  it('a lone surrogate in a UTF-16LE body is a 400 naming its offset', async () => {
    const bytes = Buffer.from('{"content":"x\ud800y"}', 'utf16le');
    const answer = await send('/api/messages', bytes, {
      'content-type': 'application/json; charset=utf-16le',
    });
    expectRefused(answer, 400, /utf-16le.*byte offset 26/);
  });

  it('a charset Node cannot decode exactly is a 415 naming it, and nothing is published', async () => {
    const answer = await send('/api/messages', '{"content":"shift-jis body"}', {
      'content-type': 'application/json; charset=shift_jis',
    });
    expectRefused(answer, 415, /shift_jis/);
    expect(publishedContents()).not.toContain('shift-jis body');
  });

  it.each([
    '/api/messages/simple?content=%E0%A4%A',
    '/api/messages/simple?content=a%C3%28b',
    '/api/messages/simple?content=x%zz',
  ])(
    'invalid percent-encoding in the query (%s) is a 400, never literal text (RFC 3986 §2.1)',
    async (path) => {
      const answer = await send(path, '', {});
      expectRefused(answer, 400, /percent-encoding/);
      expect(publishedContents()).not.toContain('%E0%A4%A');
    },
  );

  it('valid percent-encoding in the query is decoded as UTF-8', async () => {
    const answer = await send('/api/messages/simple?content=%E0%A4%A4%20%F0%9D%84%9E', '', {});
    expect(contentWritten(answer)).toBe('त 𝄞');
  });

  it.each([
    ['/api/messages', '{"content":"first","content":"second"}', 'content'],
    ['/api/messages', '{"content":"x","metadata":{"k":"1","k":"2"}}', 'metadata.k'],
    ['/api/messages', '{"content":"x","\\u0063ontent":"y"}', 'content'],
    ['/api/messages/batch', '[{"content":"a"},{"content":"b","type":"INFO","type":"ERROR"}]', '[1].type'],
  ])(
    'a member repeated in one object is a 400 naming it (RFC 7493 §2.3): %s %s',
    async (path, body, field) => {
      const answer = await send(path, body);
      expectRefused(answer, 400, /more than once/);
      expect(answer.json!.details).toEqual([{ field, reason: expect.stringMatching(/more than once/) }]);
      expect(publishedContents()).not.toContain('second');
    },
  );

  it.each([
    ['/api/messages', '{"content":"lone-a \\ud800"}', 'content'],
    ['/api/messages', '{"content":"lone-b","metadata":{"k":"\\udc00x"}}', 'metadata.k'],
    ['/api/messages', '{"content":"lone-c","metadata":{"\\ud83d":"v"}}', 'metadata.\ud83d'],
    ['/api/messages/batch', '[{"content":"lone-d"},{"content":"\\ud83d lone-e"}]', '[1].content'],
  ])(
    'an unpaired surrogate is a 400 naming where, never written as U+FFFD: %s %s',
    async (path, body, field) => {
      const answer = await send(path, body);

      expectRefused(answer, 400, /unpaired surrogate/);
      expect((answer.json!.details as { field: string }[])[0]!.field).toBe(field);
      expect(publishedContents().filter((content) => String(content).includes('lone-'))).toEqual([]);
    },
  );

  it('a surrogate pair (an astral character as two escapes) is one character, written as sent', async () => {
    expect(contentWritten(await send('/api/messages', '{"content":"pair \\ud834\\udd1e"}'))).toBe('pair 𝄞');
  });

  it('the same member name in different objects is no duplicate', async () => {
    const answer = await send('/api/messages/batch', '[{"content":"dup-a"},{"content":"dup-b"}]');
    expect(answer.status).toBe(200);
  });

  const OBJECT_PROTOTYPE_NAMES = [
    'hasOwnProperty',
    'isPrototypeOf',
    '__defineGetter__',
    'toString',
    'valueOf',
    'constructor',
    '__proto__',
  ];

  it.each(OBJECT_PROTOTYPE_NAMES)(
    'a member named %s is unknown like any other: 400 naming it in the body, a batch item and the query, nothing published',
    async (name) => {
      const marker = `proto-${name}`;
      const cases: { path: string; body: string; field: string }[] = [
        { path: '/api/messages', body: `{"content":"${marker}","${name}":"x"}`, field: name },
        {
          path: '/api/messages/batch',
          body: `[{"content":"${marker}"},{"content":"${marker}","${name}":"x"}]`,
          field: `[1].${name}`,
        },
        { path: `/api/messages/simple?content=${marker}&${name}=x`, body: '', field: name },
        { path: `/api/messages?${name}=x`, body: `{"content":"${marker}"}`, field: name },
      ];
      for (const { path, body, field } of cases) {
        const answer = await send(path, body, body ? { 'content-type': 'application/json' } : {});
        expect({ path, status: answer.status }).toEqual({ path, status: 400 });
        expectErrorShape(answer.json!, 400);
        expect({ path, details: answer.json!.details }).toEqual({
          path,
          details: [{ field, reason: `property ${name} should not exist` }],
        });
      }
      expect(publishedContents()).not.toContain(marker);
    },
  );
});
