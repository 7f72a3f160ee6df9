import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { RunningApp, ServiceProcess, spawnService, startApp, uniqueTopic } from './support/app';
import { eventually } from './support/eventually';
import { post } from './support/http';
import { kcatProduce, kcatRead, kcatReadAll } from './support/kcat';

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** OTLP/JSON ids are hex; some encoders send base64: both read as hex. */
const hex = (id: string | undefined): string | undefined =>
  id === undefined || id === ''
    ? undefined
    : /^[0-9a-f]+$/i.test(id)
      ? id.toLowerCase()
      : Buffer.from(id, 'base64').toString('hex');

/** A real OTLP/HTTP receiver (JSON encoding, what @opentelemetry/exporter-trace-otlp-http sends). */
async function startReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[] }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: {
            scopeSpans: {
              spans: (Omit<ReceivedSpan, 'attributes'> & {
                attributes?: { key: string; value: Record<string, unknown> }[];
              })[];
            }[];
          }[];
        };
        for (const span of body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans))) {
          spans.push({
            ...span,
            traceId: hex(span.traceId)!,
            spanId: hex(span.spanId)!,
            parentSpanId: hex(span.parentSpanId),
            attributes: Object.fromEntries(
              (span.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]),
            ),
          });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('trace context into Kafka, with spans exported over OTLP', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let service: ServiceProcess;
  const topic = uniqueTopic('tracing');
  const feedbackTopic = uniqueTopic('tracing-feedback');

  beforeAll(async () => {
    receiver = await startReceiver();
    service = await spawnService({
      KAFKA_TOPIC: topic,
      KAFKA_FEEDBACK_TOPIC: feedbackTopic,
      FEEDBACK_CONSUMER_ENABLED: 'true',
      FEEDBACK_CONSUMER_GROUP: `${feedbackTopic}-group`,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'kps-tracing-test',
    });
    await eventually(async () => {
      expect((await fetch(`${service.url}/actuator/health/readiness`)).status).toBe(200);
    }, 30_000);
  }, 60_000);
  afterAll(async () => {
    service?.child.kill('SIGTERM');
    await service?.exited;
    receiver?.server.close();
  });

  it("continues the caller's trace: the record's traceparent carries its trace id, and the spans arrive", async () => {
    const sent = await post(
      `${service.url}/api/messages`,
      { content: 'traced' },
      { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'vendor=value' },
    );
    expect(sent.status).toBe(200);

    const [record] = kcatReadAll(topic).filter((r) => r.key === sent.body.messageId);
    expect(record?.headers.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    expect(record?.headers.tracestate).toBe('vendor=value');

    const { server, producer } = await eventually(() => {
      const server = receiver.spans.find((s) => s.traceId === TRACE && s.name === 'POST /api/messages');
      const producer = receiver.spans.find((s) => s.traceId === TRACE && s.name === `send ${topic}`);
      expect(server).toBeDefined();
      expect(producer).toBeDefined();
      return { server: server!, producer: producer! };
    }, 15_000);
    expect(server.parentSpanId).toBe(PARENT);
    expect(producer.parentSpanId).toBe(server.spanId);
    // The record carries the producer span, so a consumer's span is its child.
    expect(record?.headers.traceparent).toBe(`00-${TRACE}-${producer.spanId}-01`);
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': topic,
      'messaging.message.id': sent.body.messageId,
      'messaging.destination.partition.id': String(sent.body.partition),
      'messaging.kafka.offset': expect.anything(),
    });
  });

  it('starts a new trace when the caller sends none, on single, simple and batch sends', async () => {
    const single = await post(`${service.url}/api/messages`, { content: 'new trace' });
    const simple = await post(`${service.url}/api/messages/simple?content=new-trace`);
    const batch = await post(`${service.url}/api/messages/batch`, [{ content: 'b1' }, { content: 'b2' }]);
    expect([single.status, simple.status, batch.status]).toEqual([200, 200, 200]);
    const ids = [
      single.body.messageId,
      simple.body.messageId,
      ...(batch.body.results as { messageId: string }[]).map((r) => r.messageId),
    ];
    // The batch's commit markers may land just after its 200: wait (bounded) until all four are readable.
    const records = await eventually(() => {
      const found = kcatReadAll(topic).filter((r) => ids.includes(r.key ?? ''));
      expect(found).toHaveLength(4);
      return found;
    });
    for (const r of records) {
      expect(r.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
    const batchTraces = new Set(records.slice(2).map((r) => r.headers.traceparent));
    expect(batchTraces.size).toBeGreaterThanOrEqual(1);
  });

  it('a feedback record with a traceparent yields a consumer span in the same trace', async () => {
    const trace = '0af7651916cd43dd8448eb211c80319c';
    kcatProduce(feedbackTopic, [
      {
        key: 'fb-1',
        value: JSON.stringify({ content: 'feedback', type: 'INFO' }),
        headers: { traceparent: `00-${trace}-b7ad6b7169203331-01` },
      },
    ]);
    const consumer = await eventually(() => {
      const span = receiver.spans.find((s) => s.traceId === trace && s.name === `process ${feedbackTopic}`);
      expect(span).toBeDefined();
      return span!;
    }, 30_000);
    expect(consumer.parentSpanId).toBe('b7ad6b7169203331');
    expect(consumer.attributes).toMatchObject({ 'messaging.system': 'kafka', 'feedback.outcome': 'handled' });
  }, 45_000);
});

describe('trace context without an OTLP endpoint (the SDK off)', () => {
  const topic = uniqueTopic('tracing-off');
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ KAFKA_TOPIC: topic, FEEDBACK_CONSUMER_ENABLED: 'false' });
  });
  afterAll(async () => {
    await running?.close();
  });

  /** Sends one message with these trace headers; the headers of the record it wrote. */
  const recordHeaders = async (headers: Record<string, string>): Promise<Record<string, string>> => {
    const sent = await post<{ partition: number; offset: number }>(
      `${running.url}/api/messages`,
      { content: 'traced' },
      headers,
    );
    expect(sent.status).toBe(200);
    const [record] = kcatRead(topic, sent.body.partition, sent.body.offset);
    return record!.headers;
  };

  /** `n` list-members `k<i>=<value of length>`. */
  const members = (n: number, length = 8, prefix = 'k'): string[] =>
    Array.from({ length: n }, (_, i) => `${prefix}${i}=${'v'.repeat(length)}`);

  it("passes the caller's traceparent and tracestate on to the record unchanged", async () => {
    const traceparent = `00-${TRACE}-${PARENT}-01`;
    expect(await recordHeaders({ traceparent, tracestate: 'a=b' })).toMatchObject({
      traceparent,
      tracestate: 'a=b',
    });
  });

  it('writes trace-flags as the two hex digits sent: ff stays ff, a valid 55-character traceparent (W3C Trace Context §3.2.2.5)', async () => {
    const traceparent = `00-${TRACE}-${PARENT}-ff`;
    const headers = await recordHeaders({ traceparent });

    expect(headers.traceparent).toBe(traceparent);
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
  });

  it('keeps the first 32 of 40 tracestate members (W3C Trace Context §3.3.1.5)', async () => {
    const headers = await recordHeaders({
      traceparent: `00-${TRACE}-${PARENT}-01`,
      tracestate: members(40).join(','),
    });
    expect(headers.tracestate).toBe(members(32).join(','));
  });

  it('removes members over 128 characters first when the tracestate is over 512 characters', async () => {
    const short = members(25, 12);
    const long = 'long=' + 'x'.repeat(200);
    const tracestate = [...short.slice(0, 5), long, ...short.slice(5)].join(',');
    expect(tracestate.length).toBeGreaterThan(512);

    const headers = await recordHeaders({ traceparent: `00-${TRACE}-${PARENT}-01`, tracestate });
    expect(headers.tracestate).toBe(short.join(','));
  });

  it('then removes members from the right until 512 characters are left', async () => {
    const all = members(30, 40);
    const headers = await recordHeaders({
      traceparent: `00-${TRACE}-${PARENT}-01`,
      tracestate: all.join(','),
    });

    expect(headers.tracestate!.length).toBeLessThanOrEqual(512);
    expect(headers.tracestate).toBe(all.slice(0, 11).join(','));
  });

  it('writes no tracestate header when no member fits, rather than an empty one', async () => {
    const headers = await recordHeaders({
      traceparent: `00-${TRACE}-${PARENT}-01`,
      tracestate: `big=${'x'.repeat(600)}`,
    });
    expect(headers).not.toHaveProperty('tracestate');
  });
});
