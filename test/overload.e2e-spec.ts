import { startApp, uniqueTopic } from './support/app';
import { expectErrorShape, post } from './support/http';
import { kcatReadAll } from './support/kcat';

describe('MAX_IN_FLIGHT_SENDS: bounded memory under a burst', () => {
  it('answers 503 OVERLOADED with Retry-After past the limit, instead of queueing without bound; every 200 is on the topic', async () => {
    const topic = uniqueTopic('overload');
    // A 50 ms linger holds the first sends in flight while the rest of the burst arrives.
    const running = await startApp({
      KAFKA_TOPIC: topic,
      MAX_IN_FLIGHT_SENDS: '5',
      KAFKA_PRODUCER_LINGER_MS: '50',
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          post<Record<string, unknown>>(`${running.url}/api/messages`, { content: `burst ${i}` }),
        ),
      );

      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status !== 200);
      expect(ok.length).toBeGreaterThanOrEqual(5);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.status).toBe(503);
        expectErrorShape(r.body, 503);
        expect(r.body.code).toBe('OVERLOADED');
        expect(r.headers.get('retry-after')).toBe('1');
      }
      const landed = new Set(kcatReadAll(topic).map((record) => record.key));
      expect(ok.map((r) => r.body.messageId).filter((id) => !landed.has(id as string))).toEqual([]);
    } finally {
      await running.close();
    }
  });
});
