import { availableParallelism } from 'node:os';
import { RunningApp, startApp, startAppCapturingLogs } from './support/app';
import { expectErrorShape, get, post } from './support/http';

interface Health {
  status: string;
  groups?: string[];
  components?: Record<string, { status: string; details?: Record<string, unknown> }>;
  details?: Record<string, unknown>;
}

const V3 = 'application/vnd.spring-boot.actuator.v3+json';
const V2 = 'application/vnd.spring-boot.actuator.v2+json';
/** What Spring Boot Admin and its UI send (their default Accept for actuator calls). */
const ADMIN_ACCEPT = `${V3},${V2},application/vnd.spring-boot.actuator.v1+json,application/json`;

function sampleValue(exposition: string, metric: string, labels: Record<string, string>): number {
  const line = exposition
    .split('\n')
    .find(
      (l) =>
        l.startsWith(`${metric}{`) &&
        Object.entries(labels).every(([key, value]) => l.includes(`${key}="${value}"`)),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('Actuator endpoints (real broker)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    // HEALTH_SHOW_DETAILS=always: these tests read the components' details without an API key.
    running = await startApp({
      BUILD_COMMIT: 'abc1234',
      KAFKA_CLIENT_ID: 'obs-e2e-client',
      HEALTH_SHOW_DETAILS: 'always',
    });
  });
  afterAll(async () => {
    await running.close();
  });

  it('GET /actuator/health answers 200 in Spring shape with its groups, the Kafka cluster id and broker count', async () => {
    const { status, body, headers } = await get<Health>(`${running.url}/actuator/health`);

    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/vnd\.spring-boot\.actuator\.v3\+json/);
    expect(Object.keys(body)).toEqual(['status', 'groups', 'components']);
    expect(body).toEqual({
      status: 'UP',
      groups: ['liveness', 'readiness'],
      components: expect.objectContaining({
        kafka: {
          status: 'UP',
          details: expect.objectContaining({ clusterId: expect.any(String), brokerCount: 1 }),
        },
        kafkaProducer: { status: 'UP', details: { connected: true, topicsProvisioned: true } },
      }),
    });
  });

  it('GET /actuator/health/liveness answers UP from the process alone', async () => {
    const { status, body } = await get<Health>(`${running.url}/actuator/health/liveness`);

    expect(status).toBe(200);
    expect(body).toEqual({ status: 'UP', components: { livenessState: { status: 'UP' } } });
  });

  it('GET /actuator/health/readiness answers UP with the Kafka and producer components', async () => {
    const { status, body } = await get<Health>(`${running.url}/actuator/health/readiness`);

    expect(status).toBe(200);
    expect(body.status).toBe('UP');
    expect(Object.keys(body.components ?? {})).toEqual(expect.arrayContaining(['kafka', 'kafkaProducer']));
  });

  it('GET /actuator/health/{component} shows one component, and 404 for an unknown one', async () => {
    const kafka = await get<Health>(`${running.url}/actuator/health/kafka`);
    const unknown = await get(`${running.url}/actuator/health/nope`);

    expect(kafka.status).toBe(200);
    expect(kafka.body).toMatchObject({ status: 'UP', details: { brokerCount: 1 } });
    expect(unknown.status).toBe(404);
  });

  it('GET /actuator/info shows name, version, Node and Kafka client id, and the build commit', async () => {
    const { status, body } = await get(`${running.url}/actuator/info`);

    expect(status).toBe(200);
    expect(body).toEqual({
      app: {
        name: 'kafka-producer-service',
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
        environment: 'test',
      },
      git: { commit: { id: 'abc1234' } },
      node: { version: process.versions.node },
      kafka: { clientId: 'obs-e2e-client' },
    });
  });

  it('GET /actuator lists the endpoints as Spring links, at the address the request was sent to', async () => {
    const { status, body, headers } = await get(`${running.url}/actuator`, { accept: ADMIN_ACCEPT });

    const base = `${running.url}/actuator`;
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/vnd\.spring-boot\.actuator\.v3\+json/);
    expect(body).toEqual({
      _links: {
        self: { href: base, templated: false },
        health: { href: `${base}/health`, templated: false },
        'health-path': { href: `${base}/health/{*path}`, templated: true },
        info: { href: `${base}/info`, templated: false },
        'metrics-requiredMetricName': { href: `${base}/metrics/{requiredMetricName}`, templated: true },
        metrics: { href: `${base}/metrics`, templated: false },
        prometheus: { href: `${base}/prometheus`, templated: false },
      },
    });
  });

  it('answers OPTIONS on every actuator endpoint with 200, Allow and no body, as Spring does', async () => {
    for (const path of [
      '/actuator',
      '/actuator/health',
      '/actuator/health/liveness',
      '/actuator/health/kafka',
      '/actuator/info',
      '/actuator/metrics',
      '/actuator/metrics/http.server.requests',
      '/actuator/prometheus',
    ]) {
      const response = await fetch(`${running.url}${path}`, { method: 'OPTIONS' });
      expect([path, response.status, response.headers.get('allow'), await response.text()]).toEqual([
        path,
        200,
        'GET,HEAD,OPTIONS',
        '',
      ]);
    }
    expect((await fetch(`${running.url}/actuator/nope`, { method: 'OPTIONS' })).status).toBe(404);
  });

  it('negotiates the actuator media type as Spring does: v3 by default, JSON or v2 when asked, else 406', async () => {
    const type = async (accept?: string): Promise<[number, string | null]> => {
      const response = await fetch(`${running.url}/actuator/info`, {
        headers: accept === undefined ? {} : { accept },
      });
      await response.arrayBuffer();
      return [response.status, response.headers.get('content-type')?.split(';')[0] ?? null];
    };

    expect(await type()).toEqual([200, V3]);
    expect(await type('*/*')).toEqual([200, V3]);
    expect(await type('application/*')).toEqual([200, V3]);
    expect(await type(ADMIN_ACCEPT)).toEqual([200, V3]);
    expect(await type('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toEqual([200, V3]);
    expect(await type('application/json')).toEqual([200, 'application/json']);
    expect(await type(V2)).toEqual([200, V2]);
    expect(await type('application/json;q=0.9, application/vnd.spring-boot.actuator.v2+json;q=0.5')).toEqual([
      200,
      'application/json',
    ]);
    expect(await type('text/plain')).toEqual([406, 'application/json']);
    const refused = await get(`${running.url}/actuator/metrics`, { accept: 'text/plain' });
    expectErrorShape(refused.body, 406);
    expect(refused.body).toMatchObject({ code: 'NOT_ACCEPTABLE' });
  });

  it('writes health with `details` for `components` in the v2 media type, as Spring does', async () => {
    const { status, body, headers } = await get<Health>(`${running.url}/actuator/health`, { accept: V2 });

    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^application\/vnd\.spring-boot\.actuator\.v2\+json/);
    expect(Object.keys(body)).toEqual(['status', 'groups', 'details']);
    expect(body.details).toMatchObject({ kafka: { status: 'UP', details: { brokerCount: 1 } } });
  });

  it("shows Micrometer's process and system meters that apply to a Node.js process", async () => {
    const describe = async (name: string): Promise<Record<string, unknown>> => {
      const { status, body } = await get(`${running.url}/actuator/metrics/${name}`);
      expect([name, status]).toEqual([name, 200]);
      return body;
    };
    const value = (body: Record<string, unknown>): number =>
      (body.measurements as { statistic: string; value: number }[])[0]!.value;

    const uptime = await describe('process.uptime');
    expect(uptime).toMatchObject({ baseUnit: 'seconds', measurements: [{ statistic: 'VALUE' }] });
    expect(value(uptime)).toBeGreaterThan(0);
    expect(value(uptime)).toBeLessThan(process.uptime() + 1);
    const start = value(await describe('process.start.time'));
    expect(Math.abs(start + process.uptime() - Date.now() / 1000)).toBeLessThan(5);
    for (const usage of ['process.cpu.usage', 'system.cpu.usage']) {
      const body = await describe(usage);
      expect(body).not.toHaveProperty('baseUnit');
      expect(value(body)).toBeGreaterThanOrEqual(0);
      expect(value(body)).toBeLessThanOrEqual(1);
    }
    expect(value(await describe('system.cpu.count'))).toBe(availableParallelism());
    expect(value(await describe('system.load.average.1m'))).toBeGreaterThanOrEqual(0);
    const open = await describe('process.files.open');
    expect(open).toMatchObject({ baseUnit: 'files' });
    expect(value(open)).toBeGreaterThan(0);
    expect(value(await describe('process.files.max'))).toBeGreaterThanOrEqual(value(open));
  });

  it('GET /actuator/metrics lists Micrometer-style names, the seed meters among them', async () => {
    const { status, body } = await get<{ names: string[] }>(`${running.url}/actuator/metrics`);

    expect(status).toBe(200);
    expect(body.names).toEqual(
      expect.arrayContaining([
        'kafka.producer.messages.sent',
        'kafka.producer.messages.failed',
        'kafka.producer.message.send.time',
        'kafka.producer.messages.received',
        'api.message.send',
        'api.message.send.simple',
        'http.server.requests',
        'process.cpu.user.seconds',
        'nodejs.eventloop.lag.seconds',
        'process.uptime',
        'process.start.time',
        'process.cpu.usage',
      ]),
    );
    // A timer's windowed max is its MAX statistic, not a metric of its own.
    expect(body.names).not.toContain('http.server.requests.seconds.max');
    expect(body.names).not.toContain('http.server.requests.max');
  });

  it('GET /actuator/metrics/{name} gives measurements and tags, filtered by ?tag=key:value', async () => {
    const sent = await post(`${running.url}/api/messages/simple?content=metrics&type=WARNING`);
    expect(sent.status).toBe(200);

    const all = await get(`${running.url}/actuator/metrics/kafka.producer.messages.sent`);
    const warning = await get(
      `${running.url}/actuator/metrics/kafka.producer.messages.sent?tag=type:WARNING`,
    );
    const timer = await get(`${running.url}/actuator/metrics/api.message.send.simple`);
    const missing = await get(`${running.url}/actuator/metrics/no.such.metric`);

    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      name: 'kafka.producer.messages.sent',
      description: expect.any(String),
      measurements: [{ statistic: 'COUNT', value: expect.any(Number) }],
      availableTags: expect.arrayContaining([{ tag: 'type', values: expect.arrayContaining(['WARNING']) }]),
    });
    expect(warning.body).toMatchObject({ measurements: [{ statistic: 'COUNT', value: 1 }] });
    expect(timer.body).toMatchObject({
      baseUnit: 'seconds',
      measurements: [
        { statistic: 'COUNT', value: 1 },
        { statistic: 'TOTAL_TIME', value: expect.any(Number) },
        { statistic: 'MAX', value: expect.any(Number) },
      ],
    });
    const [, total, max] = (timer.body as { measurements: { value: number }[] }).measurements;
    // One request: its time is both the total and the max.
    expect(max!.value).toBe(total!.value);
    expect(max!.value).toBeGreaterThan(0);
    expect(all.body).not.toHaveProperty('baseUnit');
    expect(missing.status).toBe(404);
  });

  it('GET /actuator/prometheus serves the text exposition with the seed meters and process metrics', async () => {
    await post(`${running.url}/api/messages`, { content: 'scraped' });

    const { status, body, headers } = await get<string>(`${running.url}/actuator/prometheus`);

    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    for (const name of [
      'kafka_producer_messages_sent_total',
      'kafka_producer_messages_failed_total',
      'kafka_producer_message_send_time_seconds',
      'kafka_producer_messages_received_total',
      'api_message_send_seconds',
      'api_message_send_simple_seconds',
      'http_server_requests_seconds',
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_seconds',
      'kafka_producer_batch_size_records',
      'kafka_producer_send_retries_total',
      'kafka_producer_in_flight_sends',
      'kafka_producer_connected',
    ]) {
      expect(body).toContain(`# TYPE ${name} `);
    }
    expect(body).toMatch(
      /^kafka_producer_message_send_time_seconds_bucket\{le="\+Inf",topic="demo-topic"\} \d+$/m,
    );
  });

  it('records http_server_requests_seconds by route template, status, outcome, exception and error', async () => {
    const before = await get<string>(`${running.url}/actuator/prometheus`);
    await get(`${running.url}/actuator/metrics/kafka.producer.messages.sent`);
    await get(`${running.url}/no/such/path/12345`);
    await post(`${running.url}/api/messages`, 'not json', { 'content-type': 'text/plain' });
    await post(`${running.url}/api/messages`, { content: '' });
    const after = await get<string>(`${running.url}/actuator/prometheus`);

    const delta = (labels: Record<string, string>): number =>
      sampleValue(after.body, 'http_server_requests_seconds_count', labels) -
      sampleValue(before.body, 'http_server_requests_seconds_count', labels);
    expect(
      delta({
        method: 'GET',
        uri: '/actuator/metrics/{name}',
        status: '200',
        outcome: 'SUCCESS',
        exception: 'none',
        error: 'none',
      }),
    ).toBe(1);
    expect(delta({ method: 'GET', uri: 'NOT_FOUND', status: '404', outcome: 'CLIENT_ERROR' })).toBe(1);
    expect(delta({ method: 'POST', uri: '/api/messages', status: '415', outcome: 'CLIENT_ERROR' })).toBe(1);
    expect(delta({ method: 'POST', uri: '/api/messages', status: '400', outcome: 'CLIENT_ERROR' })).toBe(1);
    expect(after.body).toMatch(
      /^http_server_requests_seconds_count\{exception="(\w+)",method="POST",error="\1",uri="\/api\/messages",outcome="CLIENT_ERROR",status="400"\}/m,
    );
    expect(after.body).not.toContain('/no/such/path');
  });
});

describe('Request ids in logs (real broker)', () => {
  let lines: Record<string, unknown>[] = [];
  let running: RunningApp;

  beforeAll(async () => {
    ({ running, lines } = await startAppCapturingLogs({
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
      LOG_ACCESS: 'true',
    }));
  });
  afterAll(async () => {
    await running.close();
  });

  it("puts the caller's X-Request-Id on every JSON log line about the request (access log on)", async () => {
    lines.length = 0;
    const sent = await post(
      `${running.url}/api/messages`,
      { content: 'logged' },
      { 'X-Request-Id': 'log-ok-1' },
    );
    const refused = await post(
      `${running.url}/api/messages`,
      { content: '' },
      { 'X-Request-Id': 'log-bad-1' },
    );

    expect(sent.headers.get('x-request-id')).toBe('log-ok-1');
    expect(refused.headers.get('x-request-id')).toBe('log-bad-1');
    const about = (id: string): Record<string, unknown>[] =>
      lines.filter((line) => JSON.stringify(line).includes(id));
    expect(about('log-ok-1')).toContainEqual(
      expect.objectContaining({
        requestId: 'log-ok-1',
        msg: expect.stringMatching(/^POST \/api\/messages -> 200/),
      }),
    );
    expect(about('log-bad-1')).toContainEqual(
      expect.objectContaining({ requestId: 'log-bad-1', context: 'Errors', level: 20 }),
    );
    for (const line of [...about('log-ok-1'), ...about('log-bad-1')]) {
      expect(line.requestId).toMatch(/^log-(ok|bad)-1$/);
    }
  });

  it('generates a request id when the caller sends none, and logs under it', async () => {
    lines.length = 0;
    const { headers } = await post(`${running.url}/api/messages/simple?content=generated`);

    const id = headers.get('x-request-id') ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines).toContainEqual(
      expect.objectContaining({ requestId: id, req: { method: 'POST', url: expect.any(String) } }),
    );
  });

  it("puts the caller's trace_id and span_id next to the request id", async () => {
    lines.length = 0;
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await post(
      `${running.url}/api/messages`,
      { content: 'traced log' },
      { 'X-Request-Id': 'log-trace-1', traceparent },
    );

    expect(lines).toContainEqual(
      expect.objectContaining({
        requestId: 'log-trace-1',
        trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
      }),
    );
  });
});

describe('/actuator/health details with API keys (real broker, HEALTH_SHOW_DETAILS default: when-authorized)', () => {
  const key = 'obs-health-key';
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ API_KEYS: key });
  });
  afterAll(async () => {
    await running.close();
  });

  it('shows an unauthenticated probe UP with statuses only: no cluster id, topic or consumer group', async () => {
    const { status, body } = await get<Health>(`${running.url}/actuator/health`);

    expect(status).toBe(200);
    expect(body).toEqual({
      status: 'UP',
      groups: ['liveness', 'readiness'],
      components: {
        kafka: { status: 'UP' },
        kafkaProducer: { status: 'UP' },
        feedbackConsumer: { status: expect.stringMatching(/^(UP|UNKNOWN)$/) },
      },
    });
  });

  it('shows the cluster id and the consumer group to a request with a valid API key', async () => {
    const { status, body } = await get<Health>(`${running.url}/actuator/health`, { 'x-api-key': key });

    expect(status).toBe(200);
    expect(body.components).toMatchObject({
      kafka: { status: 'UP', details: { clusterId: expect.any(String), brokerCount: 1 } },
      feedbackConsumer: { details: { group: expect.stringMatching(/-consumer-group$/) } },
    });
  });
});
