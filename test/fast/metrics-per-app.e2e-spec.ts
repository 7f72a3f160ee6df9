import { startApp } from '../support/app';
import { get, post } from '../support/http';

/** The samples of one metric family in a text exposition, by their label set. */
function samples(exposition: string, name: string): string[] {
  return exposition.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('metrics of apps built one after another in one process', () => {
  it('start from zero in each app: nothing counted by an earlier app shows up', async () => {
    const first = await startApp();
    try {
      expect((await post(`${first.url}/api/messages`, { type: 'INFO' })).status).toBe(400);
      const counted = (await get<string>(`${first.url}/actuator/prometheus`)).body;
      expect(samples(counted, 'http_server_requests_seconds_count').join('\n')).toMatch(
        /uri="\/api\/messages".*status="400"/,
      );
    } finally {
      await first.close();
    }

    const second = await startApp();
    try {
      const fresh = (await get<string>(`${second.url}/actuator/prometheus`)).body;
      expect(samples(fresh, 'http_server_requests_seconds_count').join('\n')).not.toContain('status="400"');
      // The series every app exports at 0 from start-up are there again, at 0.
      expect(samples(fresh, 'kafka_producer_messages_sent_total')).toContain(
        'kafka_producer_messages_sent_total{topic="demo-topic",type="INFO"} 0',
      );
    } finally {
      await second.close();
    }
  });
});
