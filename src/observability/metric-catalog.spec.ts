import { Counter, Gauge, Registry } from 'prom-client';
import { Distribution } from './distribution';
import { HealthStatus } from './health-indicator';
import { aggregate, httpStatusOf } from './health-reporter';
import { MetricCatalog, micrometerName, parseTagFilters } from './metric-catalog';

describe(MetricCatalog.name, () => {
  const registry = new Registry();
  const sent = new Counter({
    name: 'x_messages_sent_total',
    help: 'sent',
    labelNames: ['type'],
    registers: [registry],
  });
  const timer = Distribution.create({
    name: 'x_send_seconds',
    help: 'time',
    labelNames: ['uri'],
    buckets: [0.1, 1],
    registers: [registry],
  });
  new Gauge({ name: 'process_start_time_seconds', help: 'start', registers: [registry] }).set(1.7e9);
  sent.inc({ type: 'INFO' }, 2);
  sent.inc({ type: 'ERROR' });
  timer.observe({ uri: '/a' }, 0.5);
  timer.observe({ uri: '/b' }, 0.25);
  const sut = new MetricCatalog(registry);

  it('names metrics as Micrometer does: counters without _total, timers without _seconds, no _max of their own', async () => {
    expect(await sut.names()).toEqual(['process.start.time', 'x.messages.sent', 'x.send']);
    expect(micrometerName({ name: 'process_resident_memory_bytes', type: 'gauge' })).toBe(
      'process.resident.memory.bytes',
    );
  });

  it('sums a counter over its series and lists its tags', async () => {
    expect(await sut.describe('x.messages.sent')).toEqual({
      name: 'x.messages.sent',
      description: 'sent',
      measurements: [{ statistic: 'COUNT', value: 3 }],
      availableTags: [{ tag: 'type', values: ['ERROR', 'INFO'] }],
    });
  });

  it('gives a timer COUNT, TOTAL_TIME and MAX in seconds, filtered by tag, also under its Prometheus name', async () => {
    expect(await sut.describe('x_send_seconds', { uri: '/a' })).toMatchObject({
      baseUnit: 'seconds',
      measurements: [
        { statistic: 'COUNT', value: 1 },
        { statistic: 'TOTAL_TIME', value: 0.5 },
        { statistic: 'MAX', value: 0.5 },
      ],
      availableTags: [],
    });
  });

  it('takes MAX as the largest of the series, not their sum', async () => {
    expect((await sut.describe('x.send'))?.measurements).toEqual([
      { statistic: 'COUNT', value: 2 },
      { statistic: 'TOTAL_TIME', value: 0.75 },
      { statistic: 'MAX', value: 0.5 },
    ]);
  });

  it("shows prom-client's process metrics under Micrometer's name and unit", async () => {
    expect(await sut.describe('process.start.time')).toEqual({
      name: 'process.start.time',
      description: 'start',
      baseUnit: 'seconds',
      measurements: [{ statistic: 'VALUE', value: 1.7e9 }],
      availableTags: [],
    });
  });

  it('knows no metric by an unknown name, nor one whose tags match no series', async () => {
    expect(await sut.describe('nope')).toBeUndefined();
    expect(await sut.describe('x.send', { uri: '/c' })).toBeUndefined();
  });

  it("parses Spring's tag=key:value parameters and refuses others", () => {
    expect(parseTagFilters(['uri:/a:b', 'status:200'])).toEqual({ uri: '/a:b', status: '200' });
    expect(parseTagFilters('novalue')).toEqual(expect.stringContaining('key:value'));
  });
});

describe('health aggregation', () => {
  it("lets the worst status win in Spring's order and answers 503 for DOWN and OUT_OF_SERVICE", () => {
    expect(aggregate(['UP', 'UNKNOWN'])).toBe('UP');
    expect(aggregate(['UP', 'OUT_OF_SERVICE'])).toBe('OUT_OF_SERVICE');
    expect(aggregate(['OUT_OF_SERVICE', 'DOWN', 'UP'])).toBe('DOWN');
    expect(
      (['UP', 'UNKNOWN', 'DOWN', 'OUT_OF_SERVICE'] as HealthStatus[]).map((s) => httpStatusOf(s)),
    ).toEqual([200, 200, 503, 503]);
  });
});
