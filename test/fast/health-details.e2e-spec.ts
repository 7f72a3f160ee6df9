import { RunningApp, startApp } from '../support/app';
import { get } from '../support/http';

interface Health {
  status: string;
  groups?: string[];
  components?: Record<string, { status: string; details?: Record<string, unknown> }>;
  details?: Record<string, unknown>;
}

const KEY = 'health-details-key';
const TOPIC = 'health-details-feedback';
const GROUP = 'health-details-group';
/** What only details may show: the consumer's topic and group, Kafka's error text. */
const SECRETS = [TOPIC, GROUP, 'KafkaJS', 'ECONNREFUSED', 'error'];

function expectNoDetails(body: Health): void {
  const text = JSON.stringify(body);
  for (const secret of SECRETS) {
    expect(text).not.toContain(secret);
  }
  for (const component of Object.values(body.components ?? {})) {
    expect(Object.keys(component)).toEqual(['status']);
  }
}

async function healthOf(running: RunningApp, headers: Record<string, string> = {}): Promise<Health[]> {
  const paths = ['health', 'health/readiness', 'health/kafka', 'health/feedbackConsumer'];
  const answers = await Promise.all(
    paths.map((path) => get<Health>(`${running.url}/actuator/${path}`, headers)),
  );
  // Kafka is unreachable here: the root, readiness and the kafka component are DOWN, with an error to hide
  // (the feedback consumer is starting or reconnecting, depending on how long the app has run).
  expect(answers.map((a) => a.status).slice(0, 3)).toEqual([503, 503, 503]);
  return answers.map((a) => a.body);
}

const env = { KAFKA_FEEDBACK_TOPIC: TOPIC, FEEDBACK_CONSUMER_GROUP: GROUP };

describe('/actuator/health details (HEALTH_SHOW_DETAILS), Kafka unreachable', () => {
  describe('when-authorized (the default), with API keys configured', () => {
    let running: RunningApp;
    beforeAll(async () => {
      running = await startApp({ ...env, API_KEYS: KEY });
    });
    afterAll(() => running?.close());

    it('shows statuses only to a request without a key: no topic, group or Kafka error text', async () => {
      const [root, readiness, kafka, feedback] = await healthOf(running);

      expect(root).toEqual({
        status: 'DOWN',
        groups: ['liveness', 'readiness'],
        components: {
          kafka: { status: 'DOWN' },
          kafkaProducer: { status: 'DOWN' },
          feedbackConsumer: { status: expect.any(String) },
        },
      });
      expect(kafka).toEqual({ status: 'DOWN' });
      for (const body of [root!, readiness!, kafka!, feedback!]) {
        expectNoDetails(body);
      }
    });

    it('shows statuses only to a request with a wrong key, and does not refuse it', async () => {
      for (const body of await healthOf(running, { 'x-api-key': 'not-the-key' })) {
        expectNoDetails(body);
      }
    });

    it('shows the details to a request with a valid key (X-API-Key or Bearer)', async () => {
      const [root, , kafka, feedback] = await healthOf(running, { 'x-api-key': KEY });
      const [, , , bearer] = await healthOf(running, { authorization: `Bearer ${KEY}` });

      expect(root?.components?.kafka?.details?.error).toEqual(expect.stringMatching(/\S/));
      expect(kafka).toMatchObject({ status: 'DOWN', details: { error: expect.any(String) } });
      expect(feedback).toMatchObject({ details: { topic: TOPIC, group: GROUP } });
      expect(bearer).toMatchObject({ details: { topic: TOPIC, group: GROUP } });
    });
  });

  it('when-authorized without any API key configured: nobody is authorized, so no details', async () => {
    const running = await startApp(env);
    try {
      for (const body of await healthOf(running, { 'x-api-key': 'anything' })) {
        expectNoDetails(body);
      }
    } finally {
      await running.close();
    }
  });

  it('always: details without a key', async () => {
    const running = await startApp({ ...env, HEALTH_SHOW_DETAILS: 'always' });
    try {
      const [root] = await healthOf(running);
      expect(root?.components?.feedbackConsumer?.details).toMatchObject({ topic: TOPIC, group: GROUP });
    } finally {
      await running.close();
    }
  });

  it('never: no details, even with a valid key', async () => {
    const running = await startApp({ ...env, API_KEYS: KEY, HEALTH_SHOW_DETAILS: 'never' });
    try {
      for (const body of await healthOf(running, { 'x-api-key': KEY })) {
        expectNoDetails(body);
      }
    } finally {
      await running.close();
    }
  });
});
