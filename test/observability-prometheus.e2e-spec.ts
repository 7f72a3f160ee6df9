import { RunningApp, startApp } from './support/app';
import { get, post } from './support/http';
import { eventually } from './support/eventually';
import { promtoolCheckMetrics, RunningPrometheus, startPrometheus } from './support/prometheus';

describe('A real Prometheus scraping /actuator/prometheus', () => {
  let running: RunningApp;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    running = await startApp();
    prometheus = await startPrometheus(new URL(running.url).host);
  });
  afterAll(async () => {
    await prometheus?.stop();
    await running?.close();
  });

  it('reports the target up and kafka_producer_messages_sent_total equal to the messages sent', async () => {
    const sends = [
      post(`${running.url}/api/messages`, { content: 'one', type: 'INFO' }),
      post(`${running.url}/api/messages`, { content: 'two', type: 'ERROR' }),
      post(`${running.url}/api/messages/simple?content=three&type=WARNING`),
      post(`${running.url}/api/messages/batch`, [{ content: 'four' }, { content: 'five' }]),
    ];
    const statuses = (await Promise.all(sends)).map((r) => r.status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    const sent = 5;

    const total = await eventually(async () => {
      const [scraped] = await prometheus.query('sum(kafka_producer_messages_sent_total)');
      expect(scraped?.value).toBe(sent);
      return scraped;
    }, 20000);
    const byType = await prometheus.query('sum by (type) (kafka_producer_messages_sent_total)');

    expect(total?.value).toBe(sent);
    expect(Object.fromEntries(byType.map((s) => [s.metric.type, s.value]))).toEqual({
      INFO: 3,
      ERROR: 1,
      WARNING: 1,
      // Every configured type's series exists from start-up, at 0 until a message of it is sent.
      DEBUG: 0,
    });
    // So does the failure counter: rate() alerts on it see a series before the first failure.
    const [failed] = await prometheus.query('sum(kafka_producer_messages_failed_total)');
    expect(failed?.value).toBe(0);
    expect(await prometheus.targetHealth()).toEqual(['up']);
    const [up] = await prometheus.query('up{job="kafka-producer-service"}');
    expect(up?.value).toBe(1);
  }, 30000);

  it("stores Spring's http_server_requests_seconds with the route template as uri", async () => {
    const series = await eventually(async () => {
      const found = await prometheus.query(
        'http_server_requests_seconds_count{uri="/actuator/prometheus",method="GET",status="200",outcome="SUCCESS"}',
      );
      expect(found).toHaveLength(1);
      expect(found[0]?.value).toBeGreaterThan(0);
      return found;
    }, 10000);

    expect(series[0]?.metric).toMatchObject({ uri: '/actuator/prometheus', status: '200' });
  }, 20000);

  it('passes promtool check metrics without problems', async () => {
    const { body } = await get<string>(`${running.url}/actuator/prometheus`);

    const { status, problems } = promtoolCheckMetrics(body);

    expect(problems).toBe('');
    expect(status).toBe(0);
  });
});
