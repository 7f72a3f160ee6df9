import { RunningApp, startApp } from '../support/app';
import { expectErrorShape, post } from '../support/http';

interface Case {
  name: string;
  path: string;
  body?: unknown;
  raw?: { body: string; contentType?: string };
  status: number;
  field?: string;
  reason?: RegExp;
}

const long = (n: number): string => 'x'.repeat(n);

const CASES: Case[] = [
  {
    name: 'missing content',
    path: '/api/messages',
    body: { type: 'INFO' },
    status: 400,
    field: 'content',
    reason: /required/,
  },
  {
    name: 'blank content',
    path: '/api/messages',
    body: { content: '   ' },
    status: 400,
    field: 'content',
    reason: /blank/,
  },
  {
    name: 'content not a string',
    path: '/api/messages',
    body: { content: 42 },
    status: 400,
    field: 'content',
    reason: /string/,
  },
  {
    name: 'content over the length limit',
    path: '/api/messages',
    body: { content: long(300) },
    status: 400,
    field: 'content',
    reason: /at most 256/,
  },
  {
    name: 'unknown type',
    path: '/api/messages',
    body: { content: 'a', type: 'FATAL' },
    status: 400,
    field: 'type',
    reason: /one of: INFO, WARNING, ERROR, DEBUG/,
  },
  {
    name: 'lower-case type',
    path: '/api/messages',
    body: { content: 'a', type: 'info' },
    status: 400,
    field: 'type',
  },
  {
    name: 'timestamp not ISO-8601',
    path: '/api/messages',
    body: { content: 'a', timestamp: 'yesterday' },
    status: 400,
    field: 'timestamp',
    reason: /ISO-8601/,
  },
  {
    name: 'id with spaces',
    path: '/api/messages',
    body: { content: 'a', id: 'a b' },
    status: 400,
    field: 'id',
  },
  {
    name: 'source not a string',
    path: '/api/messages',
    body: { content: 'a', source: { x: 1 } },
    status: 400,
    field: 'source',
  },
  {
    name: 'metadata value not a string',
    path: '/api/messages',
    body: { content: 'a', metadata: { k: 1 } },
    status: 400,
    field: 'metadata',
    reason: /must be a string/,
  },
  {
    name: 'metadata an array',
    path: '/api/messages',
    body: { content: 'a', metadata: ['x'] },
    status: 400,
    field: 'metadata',
  },
  {
    name: 'metadata with too many entries',
    path: '/api/messages',
    body: { content: 'a', metadata: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'v'])) },
    status: 400,
    field: 'metadata',
    reason: /at most 4 entries/,
  },
  {
    name: 'unknown field',
    path: '/api/messages',
    body: { content: 'a', priority: 1 },
    status: 400,
    field: 'priority',
    reason: /should not exist/,
  },
  { name: 'an array instead of a Message', path: '/api/messages', body: [{ content: 'a' }], status: 400 },
  {
    name: 'a JSON string instead of a Message',
    path: '/api/messages',
    raw: { body: '"hello"', contentType: 'application/json' },
    status: 400,
  },
  {
    name: 'malformed JSON',
    path: '/api/messages',
    raw: { body: '{"content": ', contentType: 'application/json' },
    status: 400,
    reason: /Malformed JSON/,
  },
  {
    name: 'a non-JSON body',
    path: '/api/messages',
    raw: { body: 'content=a', contentType: 'application/x-www-form-urlencoded' },
    status: 415,
  },
  {
    name: 'a body without content type',
    path: '/api/messages',
    raw: { body: '{"content":"a"}' },
    status: 415,
  },
  {
    name: 'a body over the HTTP limit',
    path: '/api/messages',
    raw: { body: JSON.stringify({ content: long(5000) }), contentType: 'application/json' },
    status: 413,
  },
  {
    name: 'an unknown query parameter',
    path: '/api/messages?partition=1',
    body: { content: 'a' },
    status: 400,
    field: 'partition',
  },
  { name: 'an empty key', path: '/api/messages?key=', body: { content: 'a' }, status: 400, field: 'key' },
  { name: 'simple without content', path: '/api/messages/simple?type=INFO', status: 400, field: 'content' },
  {
    name: 'simple with unknown type',
    path: '/api/messages/simple?content=a&type=NOPE',
    status: 400,
    field: 'type',
  },
  {
    name: 'simple with repeated content',
    path: '/api/messages/simple?content=a&content=b',
    status: 400,
    field: 'content',
  },
  {
    name: 'batch that is not an array',
    path: '/api/messages/batch',
    body: { content: 'a' },
    status: 400,
    field: 'body',
  },
  {
    name: 'empty batch',
    path: '/api/messages/batch',
    body: [],
    status: 400,
    field: 'body',
    reason: /1 to 3/,
  },
  {
    name: 'batch over the count limit',
    path: '/api/messages/batch',
    body: [{ content: 'a' }, { content: 'b' }, { content: 'c' }, { content: 'd' }],
    status: 400,
    field: 'body',
  },
  {
    name: 'batch with one bad item',
    path: '/api/messages/batch',
    body: [{ content: 'a' }, { content: '' }],
    status: 400,
    field: '[1].content',
  },
  { name: 'unknown route', path: '/api/nothing', body: { content: 'a' }, status: 404 },
];

describe('bad input gets a clear 4xx with the field and the reason, in the one error shape', () => {
  let running: RunningApp;

  beforeAll(async () => {
    // Small limits so each bound is cheap to cross.
    running = await startApp({
      MESSAGE_MAX_CONTENT_LENGTH: '256',
      MESSAGE_MAX_METADATA_ENTRIES: '4',
      BATCH_MAX_MESSAGES: '3',
      HTTP_BODY_LIMIT_BYTES: '4096',
    });
  });
  afterAll(async () => {
    await running.close();
  });

  it.each(CASES)('$name → $status', async ({ path, body, raw, status, field, reason }) => {
    const result = raw
      ? await post(
          `${running.url}${path}`,
          raw.body,
          raw.contentType ? { 'content-type': raw.contentType } : {},
        )
      : await post(`${running.url}${path}`, body);

    expect(result.status).toBe(status);
    expectErrorShape(result.body, status);
    expect(result.body.requestId).toBe(result.headers.get('x-request-id'));
    if (field) {
      const details = result.body.details as { field: string; reason: string }[];
      const reasons = details.filter((d) => d.field === field).map((d) => d.reason);
      expect(reasons.length).toBeGreaterThan(0);
      if (reason) {
        expect(reasons.join(' | ')).toMatch(reason);
      }
    } else if (reason) {
      expect(result.body.message).toMatch(reason);
    }
    expect(JSON.stringify(result.body)).not.toMatch(/kafkajs|KafkaJS|at .*\.js:\d+/);
  });

  it('refuses a record over KAFKA_MAX_RECORD_BYTES with 413 before sending it', async () => {
    const small = await startApp({ KAFKA_MAX_RECORD_BYTES: '2048', MESSAGE_MAX_CONTENT_LENGTH: '100000' });
    try {
      const result = await post(`${small.url}/api/messages`, { content: long(3000) });
      expect(result.status).toBe(413);
      expectErrorShape(result.body, 413);
      expect(result.body.message).toMatch(/limit is 2048/);
    } finally {
      await small.close();
    }
  });
});
