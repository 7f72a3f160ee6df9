import { Admin } from 'kafkajs';
import { Metrics } from '../src/observability/metrics';
import { createSmallBatchTopic, RunningApp, startApp, testAdmin, uniqueTopic } from './support/app';
import { eventually } from './support/eventually';
import { expectErrorShape, get, post } from './support/http';
import { kcatRead, kcatReadAll, KcatRecord } from './support/kcat';
import { exchange, parseAnswers, rawRequestBytes, WireAnswer } from './support/raw-http';
import type { BatchResultDto, DeliveryDto, SendResultDto } from '../src/messages/dto/send-result.dto';

type HttpResultLike = { status: number; body: Record<string, unknown> };

const KEY = 'events-test-key';
const auth = { 'x-api-key': KEY };

describe('POST /api/events: CloudEvents to Kafka records (real broker, read back with kcat)', () => {
  // The broker refuses batches over 16 KiB on the events topic, so a big event fails a transaction part way.
  const topic = uniqueTopic('events');
  const routed = uniqueTopic('events-routed');
  let admin: Admin;
  let running: RunningApp;

  beforeAll(async () => {
    admin = await testAdmin();
    await createSmallBatchTopic(admin, topic);
    running = await startApp({
      CLOUDEVENTS_TOPIC: topic,
      CLOUDEVENTS_TYPE_TOPICS: `com.example.routed=${routed}`,
      KAFKA_PRODUCER_COMPRESSION: 'none',
      API_KEYS: KEY,
    });
  });
  afterAll(async () => {
    await running.close();
    await admin.disconnect();
  });

  const send = <T = Record<string, unknown>>(body: unknown, headers: Record<string, string>) =>
    post<T>(`${running.url}/api/events`, body, { ...auth, ...headers });

  function readBack(delivery: DeliveryDto): KcatRecord {
    const [record] = kcatRead(delivery.topic, delivery.partition, delivery.offset);
    expect(record).toBeDefined();
    return record!;
  }

  it('binary mode: ce- headers become ce_ headers, Content-Type content-type, the body the value byte for byte', async () => {
    const { status, body } = await send<SendResultDto>('<order id="42"/>', {
      'ce-specversion': '1.0',
      'ce-id': 'bin-1',
      'ce-source': '/orders',
      'ce-type': 'com.example.order.created',
      'ce-time': '2018-04-05T17:31:00Z',
      'ce-subject': 'caf%C3%A9',
      'ce-partitionkey': 'customer-7',
      'content-type': 'application/xml',
    });

    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'success', messageId: 'bin-1', topic });
    const record = readBack(body);
    expect(record.key).toBe('customer-7');
    expect(record.payload).toBe('<order id="42"/>');
    expect(record.headers).toMatchObject({
      ce_specversion: '1.0',
      ce_id: 'bin-1',
      ce_source: '/orders',
      ce_type: 'com.example.order.created',
      ce_time: '2018-04-05T17:31:00Z',
      ce_subject: 'café',
      ce_partitionkey: 'customer-7',
      'content-type': 'application/xml',
    });
    expect(record.headers).not.toHaveProperty('ce_datacontenttype');
    const sent = await running.app.get(Metrics).messagesSent.get();
    expect(sent.values.find((v) => v.labels.topic === topic && v.labels.type === 'CLOUDEVENT')?.value).toBe(
      1,
    );
  });

  it('binary mode keeps a JSON body as sent (not re-serialized) and keys by the event id', async () => {
    const data = '{ "b": 1,  "a": [2] }';
    const { status, body } = await send<SendResultDto>(data, {
      'ce-specversion': '1.0',
      'ce-id': 'bin-json',
      'ce-source': 'urn:test',
      'ce-type': 'com.example.json',
      'content-type': 'application/json',
    });

    expect(status).toBe(200);
    const record = readBack(body);
    expect(record.key).toBe('bin-json');
    expect(record.payload).toBe(data);
    expect(record.headers['content-type']).toBe('application/json');
  });

  it('structured mode: attributes and extensions as ce_ headers, JSON data as the value, routed by type', async () => {
    const event = {
      specversion: '1.0',
      id: 'st-1',
      source: 'https://example.com/shop',
      type: 'com.example.routed',
      datacontenttype: 'application/json',
      dataschema: 'https://example.com/schema/order.json',
      tenant: 'acme',
      priority: 5,
      urgent: true,
      data: { orderId: 42, items: ['a', 'b'] },
    };
    const { status, body } = await send<SendResultDto>(JSON.stringify(event), {
      'content-type': 'application/cloudevents+json; charset=utf-8',
    });

    expect(status).toBe(200);
    expect(body.topic).toBe(routed);
    const record = readBack(body);
    expect(record.key).toBe('st-1');
    expect(JSON.parse(record.payload!)).toEqual(event.data);
    expect(record.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: 'st-1',
      ce_source: 'https://example.com/shop',
      ce_type: 'com.example.routed',
      ce_dataschema: 'https://example.com/schema/order.json',
      ce_tenant: 'acme',
      ce_priority: '5',
      ce_urgent: 'true',
      'content-type': 'application/json',
      'x-request-id': expect.any(String),
    });
  });

  it('structured mode: data_base64 is written as its bytes; an event without data has no value', async () => {
    const withBytes = await send<SendResultDto>(
      JSON.stringify({
        specversion: '1.0',
        id: 'st-b64',
        source: '/bytes',
        type: 'com.example.bytes',
        datacontenttype: 'text/plain',
        data_base64: Buffer.from('hello bytes').toString('base64'),
      }),
      { 'content-type': 'application/cloudevents+json' },
    );
    const empty = await send<SendResultDto>(
      JSON.stringify({ specversion: '1.0', id: 'st-none', source: '/none', type: 'com.example.none' }),
      { 'content-type': 'application/cloudevents+json' },
    );

    expect([withBytes.status, empty.status]).toEqual([200, 200]);
    const bytes = readBack(withBytes.body);
    expect(bytes.payload).toBe('hello bytes');
    expect(bytes.headers['content-type']).toBe('text/plain');
    const none = readBack(empty.body);
    expect(none.payload).toBeNull();
    expect(none.headers).not.toHaveProperty('content-type');
  });

  it('batched mode: every event committed in one transaction, across the routed topics, in request order', async () => {
    const events = [0, 1, 2].map((i) => ({
      specversion: '1.0',
      id: `batch-${topic}-${i}`,
      source: '/batch',
      type: i === 1 ? 'com.example.routed' : 'com.example.batch',
      data: { i },
    }));
    const { status, body } = await send<BatchResultDto>(JSON.stringify(events), {
      'content-type': 'application/cloudevents-batch+json',
    });

    expect(status).toBe(200);
    expect(body.count).toBe(3);
    expect(body.results.map((r) => [r.messageId, r.topic])).toEqual([
      [events[0]!.id, topic],
      [events[1]!.id, routed],
      [events[2]!.id, topic],
    ]);
    // The commit markers are written after the commit returns: read_committed sees them shortly after.
    await eventually(() => {
      for (const [i, result] of body.results.entries()) {
        const record = readBack(result);
        expect(record.headers.ce_id).toBe(events[i]!.id);
        expect(JSON.parse(record.payload!)).toEqual({ i });
      }
    }, 10_000);
  });

  it('batched mode: a batch the broker refuses part way aborts as a whole, on every topic', async () => {
    const marker = `abort-${Date.now()}`;
    const event = (id: string, type: string, data: string) => ({
      specversion: '1.0',
      id,
      source: '/b',
      type,
      data,
    });
    const aborted = [
      event(`${marker}-0`, 'com.example.batch', 'small'),
      event(`${marker}-1`, 'com.example.routed', 'small'),
      event(`${marker}-2`, 'com.example.batch', 'y'.repeat(40000)),
    ];
    const { status, body } = await send(JSON.stringify(aborted), {
      'content-type': 'application/cloudevents-batch+json',
    });
    expect(status).toBe(413);
    expectErrorShape(body, 413);

    // A later batch on both topics, once visible, puts the last stable offset past the aborted records:
    // what read_committed shows then is final.
    const after = [
      event(`${marker}-after-0`, 'com.example.batch', 'a'),
      event(`${marker}-after-1`, 'com.example.routed', 'b'),
    ];
    const later = await send(JSON.stringify(after), { 'content-type': 'application/cloudevents-batch+json' });
    expect(later.status).toBe(200);
    const ids = await eventually(() => {
      const seen = [...kcatReadAll(topic), ...kcatReadAll(routed)].map((r) => r.headers.ce_id);
      expect(seen).toEqual(expect.arrayContaining(after.map((e) => e.id)));
      return seen;
    }, 10_000);
    expect(ids.filter((id) => aborted.some((e) => e.id === id))).toEqual([]);
  });

  it.each([
    ['id', { specversion: '1.0', source: '/s', type: 't' }],
    ['source', { specversion: '1.0', id: '1', type: 't' }],
    ['type', { specversion: '1.0', id: '1', source: '/s' }],
    ['specversion', { id: '1', source: '/s', type: 't' }],
  ])('answers 400 naming the missing required attribute %s', async (field, event) => {
    const { status, body } = await send(JSON.stringify(event), {
      'content-type': 'application/cloudevents+json',
    });

    expect(status).toBe(400);
    expectErrorShape(body, 400);
    expect(body.code).toBe('INVALID_INPUT');
    expect(body.details).toEqual([{ field, reason: `${field} is a required attribute` }]);
  });

  it('answers 400 for a spec version other than 1.0 (binary mode)', async () => {
    const { status, body } = await send('x', {
      'ce-specversion': '0.3',
      'ce-id': '1',
      'ce-source': '/s',
      'ce-type': 't',
      'content-type': 'text/plain',
    });

    expect(status).toBe(400);
    expectErrorShape(body, 400);
    expect(body.details).toEqual([{ field: 'specversion', reason: 'specversion must be 1.0 (got "0.3")' }]);
  });

  it('answers 400 for invalid attribute names and values, naming each', async () => {
    const { status, body } = await send(
      JSON.stringify({
        specversion: '1.0',
        id: '1',
        source: '/s',
        type: 't',
        'Bad-Name': 'x',
        nested: { a: 1 },
      }),
      { 'content-type': 'application/cloudevents+json' },
    );

    expect(status).toBe(400);
    expectErrorShape(body, 400);
    expect(body.details).toEqual([
      { field: 'Bad-Name', reason: 'attribute names must be lower-case letters a-z and digits 0-9' },
      { field: 'nested', reason: 'an attribute value must be a string, a boolean or a 32-bit integer' },
    ]);
  });

  it('answers 400 for a malformed time, naming the attribute', async () => {
    const { status, body } = await send(
      JSON.stringify({ specversion: '1.0', id: '1', source: '/s', type: 't', time: 'yesterday' }),
      { 'content-type': 'application/cloudevents+json' },
    );

    expect(status).toBe(400);
    expect(body.details).toEqual([
      {
        field: 'time',
        reason: expect.stringMatching(/^time must be an RFC 3339 timestamp with a time-zone offset/),
      },
    ]);
  });

  it('answers 400 naming the index of an invalid event in a batch, and sends none of them', async () => {
    const marker = `invalid-${Date.now()}`;
    const { status, body } = await send(
      JSON.stringify([
        { specversion: '1.0', id: marker, source: '/s', type: 't' },
        { specversion: '1.0', source: '/s', type: 't' },
      ]),
      { 'content-type': 'application/cloudevents-batch+json' },
    );

    expect(status).toBe(400);
    expect(body.details).toEqual([{ field: '[1].id', reason: 'id is a required attribute' }]);
    expect(kcatReadAll(topic).filter((r) => r.headers.ce_id === marker)).toHaveLength(0);
  });

  it('refuses prototype keys in a structured event, as for any JSON body', async () => {
    const { status, body } = await send(
      '{"specversion":"1.0","id":"1","source":"/s","type":"t","__proto__":{"polluted":true}}',
      { 'content-type': 'application/cloudevents+json' },
    );

    expect(status).toBe(400);
    expectErrorShape(body, 400);
    expect(body.details).toEqual([{ field: '__proto__', reason: 'property __proto__ should not exist' }]);
  });

  it("writes the request's W3C traceparent on the record, and a traceparent extension as ce_traceparent", async () => {
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const extension = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const { status, body } = await send<SendResultDto>('traced', {
      'ce-specversion': '1.0',
      'ce-id': 'traced-1',
      'ce-source': '/traced',
      'ce-type': 'com.example.traced',
      'ce-traceparent': extension,
      'content-type': 'text/plain',
      traceparent: incoming,
    });

    expect(status).toBe(200);
    const record = readBack(body);
    expect(record.headers.ce_traceparent).toBe(extension);
    expect(record.headers.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it('answers 413 for a binary-mode body over HTTP_BODY_LIMIT_BYTES, whatever its media type', async () => {
    const { status, body } = await send('z'.repeat(1048577), {
      'ce-specversion': '1.0',
      'ce-id': 'too-big',
      'ce-source': '/big',
      'ce-type': 'com.example.big',
      'content-type': 'application/octet-stream',
    });

    expect(status).toBe(413);
    expectErrorShape(body, 413);
  });

  it('answers 400 for ce-datacontenttype and malformed percent-encoding in binary mode', async () => {
    const { status, body } = await send('x', {
      'ce-specversion': '1.0',
      'ce-id': '1',
      'ce-source': '/s',
      'ce-type': 't',
      'ce-subject': '100%',
      'ce-datacontenttype': 'text/plain',
    });

    expect(status).toBe(400);
    expectErrorShape(body, 400);
    expect(body.details).toEqual([
      { field: 'header ce-subject', reason: 'the value has malformed percent-encoding' },
      {
        field: 'header ce-datacontenttype',
        reason:
          'datacontenttype is not an attribute header in binary mode (the body is the data, Content-Type its type)',
      },
    ]);
  });

  it('answers 415 for an event format other than JSON', async () => {
    const { status, body } = await send('x', { 'content-type': 'application/cloudevents+avro' });

    expect(status).toBe(415);
    expectErrorShape(body, 415);
  });

  it('needs an API key when keys are configured', async () => {
    const { status, body } = await post(`${running.url}/api/events`, 'x', {
      'ce-specversion': '1.0',
      'ce-id': '1',
      'ce-source': '/s',
      'ce-type': 't',
    });

    expect(status).toBe(401);
    expectErrorShape(body, 401);
  });

  it('keeps /api/messages at 415 for non-JSON bodies', async () => {
    const { status, body } = await post(`${running.url}/api/messages`, 'content=a', {
      ...auth,
      'content-type': 'text/plain',
    });

    expect(status).toBe(415);
    expectErrorShape(body, 415);
  });
});

describe('POST /api/events with CLOUDEVENTS_ENABLED=false', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ CLOUDEVENTS_ENABLED: 'false', API_KEYS: KEY });
  });
  afterAll(async () => {
    await running.close();
  });

  it('answers 404 in the error shape, as for an unknown route, before asking for an API key', async () => {
    const { status, body } = await post(`${running.url}/api/events`, 'x', {
      'ce-specversion': '1.0',
      'ce-id': '1',
      'ce-source': '/s',
      'ce-type': 't',
    });

    expect(status).toBe(404);
    expectErrorShape(body, 404);
    expect(body.code).toBe('NOT_FOUND');
  });

  it('leaves the endpoint out of the OpenAPI document', async () => {
    const { status, body } = await get<{ paths: Record<string, unknown> }>(`${running.url}/api/docs-json`);

    expect(status).toBe(200);
    expect(Object.keys(body.paths)).toContain('/api/messages');
    expect(Object.keys(body.paths)).not.toContain('/api/events');
  });
});

describe('POST /api/events: attribute values are checked by their CloudEvents type, and written as sent', () => {
  const topic = uniqueTopic('events-types');
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ CLOUDEVENTS_TOPIC: topic, KAFKA_PRODUCER_COMPRESSION: 'none' });
  });
  afterAll(async () => {
    await running?.close();
  });

  const required = (id: string): Record<string, string> => ({
    'ce-specversion': '1.0',
    'ce-id': id,
    'ce-source': '/types',
    'ce-type': 'com.example.types',
  });

  /** A binary-mode event with header values sent as raw bytes (a latin1 string holds one char per byte). */
  const sendBinary = async (headers: Record<string, string>, body = 'data'): Promise<WireAnswer> => {
    const result = await exchange(
      running.url,
      rawRequestBytes(
        'POST',
        '/api/events',
        { 'content-type': 'text/plain', connection: 'close', ...headers },
        body,
      ),
    );
    return parseAnswers(result.text)[0]!;
  };

  const sendStructured = (event: Record<string, unknown> | string): Promise<HttpResultLike> =>
    post(`${running.url}/api/events`, typeof event === 'string' ? event : JSON.stringify(event), {
      'content-type': 'application/cloudevents+json',
    });

  const structured = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    specversion: '1.0',
    id,
    source: '/types',
    type: 'com.example.types',
    ...extra,
  });

  const publishedIds = (): string[] => kcatReadAll(topic).map((record) => record.headers.ce_id ?? '');

  it('a ce- header with raw UTF-8 bytes is a 400 naming it, not re-decoded as latin1 (CloudEvents HTTP binding §3.1.3.2)', async () => {
    const answer = await sendBinary({ ...required(Buffer.from('raw-café', 'utf8').toString('latin1')) });

    expect(answer.status).toBe(400);
    expectErrorShape(answer.json!, 400);
    expect(answer.json!.details).toEqual([
      { field: 'header ce-id', reason: expect.stringMatching(/printable ASCII: percent-encode/) },
    ]);
    expect(publishedIds().filter((id) => id.startsWith('raw-caf'))).toEqual([]);
  });

  it('a percent-encoded UTF-8 ce- header is the key, ce_id and messageId as the text it encodes', async () => {
    const answer = await sendBinary(required('pct-caf%C3%A9-%F0%9D%84%9E'));

    expect(answer.status).toBe(200);
    const delivery = answer.json as unknown as DeliveryDto;
    expect(delivery.messageId).toBe('pct-café-𝄞');
    const [record] = kcatRead(topic, delivery.partition, delivery.offset);
    expect(record?.key).toBe('pct-café-𝄞');
    expect(record?.headers.ce_id).toBe('pct-café-𝄞');
  });

  it.each([
    ['CR LF in a percent-encoded ce-id', { 'ce-id': 'e%0D%0Ainjected: yes' }, 'header ce-id'],
    ['NUL in a percent-encoded ce-type', { 'ce-type': 't%00nul' }, 'header ce-type'],
    ['a raw tab in ce-subject', { 'ce-subject': 'a\tb' }, 'header ce-subject'],
    ['ESC in an extension', { 'ce-myext': 'a%1Bb' }, 'header ce-myext'],
    ['a C1 control (U+0085) in ce-subject', { 'ce-subject': 'a%C2%85b' }, 'header ce-subject'],
    ['time without an offset', { 'ce-time': '2018-04-05T17:31:00' }, 'header ce-time'],
    ['time with an offset without its colon', { 'ce-time': '2018-04-05T17:31:00+0530' }, 'header ce-time'],
    ['time on a day that does not exist', { 'ce-time': '2018-02-30T17:31:00Z' }, 'header ce-time'],
    ['a source with a space', { 'ce-source': '/a%20b c' }, 'header ce-source'],
  ])(
    'binary mode: %s is a 400 naming the header, nothing published (CloudEvents 1.0 §3.1.1)',
    async (_name, headers, field) => {
      const id = `bad-${Math.random().toString(36).slice(2)}`;
      const answer = await sendBinary({ ...required(id), ...headers });

      expect(answer.status).toBe(400);
      expectErrorShape(answer.json!, 400);
      expect((answer.json!.details as { field: string }[]).map((detail) => detail.field)).toContain(field);
      expect(publishedIds()).not.toContain(id);
    },
  );

  it.each([
    [
      'a datacontenttype with CR LF',
      { datacontenttype: 'text/plain\r\nx-evil: 1', data: 'x' },
      'datacontenttype',
    ],
    [
      'a datacontenttype that is no media type',
      { datacontenttype: 'not a media type', data: 'x' },
      'datacontenttype',
    ],
    ['ESC in an extension', { myext: 'a\u001bb' }, 'myext'],
    ['a noncharacter in the subject', { subject: 'a\uFFFEb' }, 'subject'],
    ['time with +0530', { time: '2018-04-05T17:31:00+0530' }, 'time'],
    ['a dataschema that is no absolute URI', { dataschema: '/relative' }, 'dataschema'],
  ])('structured mode: %s is a 400 naming the attribute, nothing published', async (_name, extra, field) => {
    const id = `bad-${Math.random().toString(36).slice(2)}`;
    const { status, body } = await sendStructured(structured(id, extra));

    expect(status).toBe(400);
    expectErrorShape(body, 400);
    expect((body.details as { field: string }[]).map((detail) => detail.field)).toContain(field);
    expect(publishedIds()).not.toContain(id);
  });

  it.each([
    [
      'a subject',
      '{"specversion":"1.0","id":"ls-1","source":"/s","type":"t","subject":"a\\ud800"}',
      'subject',
    ],
    [
      'text data',
      '{"specversion":"1.0","id":"ls-2","source":"/s","type":"t","datacontenttype":"text/plain","data":"x\\udc00"}',
      'data',
    ],
    [
      'JSON data',
      '{"specversion":"1.0","id":"ls-3","source":"/s","type":"t","data":{"k":"\\ud83d"}}',
      'data.k',
    ],
  ])(
    'an unpaired surrogate in %s is a 400 naming it, never written as U+FFFD',
    async (_name, text, field) => {
      const { status, body } = await sendStructured(text);

      expect(status).toBe(400);
      expect(body.details).toEqual([{ field, reason: expect.stringMatching(/unpaired surrogate/) }]);
      expect(publishedIds().filter((id) => id.startsWith('ls-'))).toEqual([]);
    },
  );

  it('valid typed values are written as sent: time with +05:30, a media type with parameters, URIs', async () => {
    const { status, body } = await sendStructured(
      structured('typed-ok', {
        time: '2018-04-05T17:31:00.5+05:30',
        datacontenttype: 'text/plain; charset="utf-8"',
        dataschema: 'https://example.com/schema?v=1#x',
        subject: 'café 𝄞',
        data: 'hello',
      }),
    );

    expect(status).toBe(200);
    const [record] = kcatRead(topic, body.partition as number, body.offset as number);
    expect(record?.headers).toMatchObject({
      ce_time: '2018-04-05T17:31:00.5+05:30',
      'content-type': 'text/plain; charset="utf-8"',
      ce_dataschema: 'https://example.com/schema?v=1#x',
      ce_subject: 'café 𝄞',
    });
    expect(record?.payload).toBe('hello');
  });

  it('"data_base64": null is absent: the event has its data', async () => {
    const { status, body } = await sendStructured(
      structured('null-b64', { datacontenttype: 'text/plain', data: 'x', data_base64: null }),
    );

    expect(status).toBe(200);
    expect(kcatRead(topic, body.partition as number, body.offset as number)[0]?.payload).toBe('x');
  });

  it('"data": null is absent data (the JSON event format): a record without a value, not the 4 bytes null', async () => {
    const { status, body } = await sendStructured(structured('null-data', { data: null }));

    expect(status).toBe(200);
    const [record] = kcatRead(topic, body.partition as number, body.offset as number);
    expect(record?.payload).toBeNull();
    expect(record?.headers).not.toHaveProperty('content-type');
  });
});
