import { RunningApp, startApp } from '../support/app';
import { get } from '../support/http';

/** The samples of one metric family in a text exposition. */
function samples(exposition: string, name: string): string[] {
  return exposition.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('feedback counters from start-up (nothing consumed: Kafka is unreachable)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ KAFKA_FEEDBACK_TOPIC: 'fb-at-start', MESSAGE_TYPES: 'INFO,ERROR' });
  });
  afterAll(() => running?.close());

  it('exports kafka_producer_messages_received_total at 0 for every message type on the feedback topic', async () => {
    const exposition = (await get<string>(`${running.url}/actuator/prometheus`)).body;

    expect(samples(exposition, 'kafka_producer_messages_received_total')).toEqual([
      'kafka_producer_messages_received_total{topic="fb-at-start",type="INFO"} 0',
      'kafka_producer_messages_received_total{topic="fb-at-start",type="ERROR"} 0',
    ]);
  });

  it('exports kafka_producer_messages_dead_lettered_total at 0 for every failure kind', async () => {
    const exposition = (await get<string>(`${running.url}/actuator/prometheus`)).body;

    expect(samples(exposition, 'kafka_producer_messages_dead_lettered_total')).toEqual([
      'kafka_producer_messages_dead_lettered_total{topic="fb-at-start",error="NotJson"} 0',
      'kafka_producer_messages_dead_lettered_total{topic="fb-at-start",error="InvalidMessage"} 0',
      'kafka_producer_messages_dead_lettered_total{topic="fb-at-start",error="HandlerFailed"} 0',
    ]);
  });

  it('shows both in /actuator/metrics with COUNT 0 and their tags', async () => {
    const received = await get(`${running.url}/actuator/metrics/kafka.producer.messages.received`);
    const deadLettered = await get(`${running.url}/actuator/metrics/kafka.producer.messages.dead.lettered`);

    expect(received.body).toEqual({
      name: 'kafka.producer.messages.received',
      description: 'Feedback messages received and handled',
      measurements: [{ statistic: 'COUNT', value: 0 }],
      availableTags: [
        { tag: 'topic', values: ['fb-at-start'] },
        { tag: 'type', values: ['ERROR', 'INFO'] },
      ],
    });
    expect(deadLettered.body).toMatchObject({
      measurements: [{ statistic: 'COUNT', value: 0 }],
      availableTags: [
        { tag: 'topic', values: ['fb-at-start'] },
        { tag: 'error', values: ['HandlerFailed', 'InvalidMessage', 'NotJson'] },
      ],
    });
  });
});
