import { RunningApp, startApp } from '../support/app';
import { expectErrorShape, get, post } from '../support/http';

// Accepted keys reach Kafka: test/api-keys.e2e-spec.ts, against the broker.
describe('API keys (API_KEYS set)', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ API_KEYS: 'key-one, key-two' });
  });
  afterAll(async () => {
    await running.close();
  });

  it('refuses /api/** without a key: 401 in the error shape, with WWW-Authenticate', async () => {
    const result = await post(`${running.url}/api/messages`, { content: 'no key' });
    expect(result.status).toBe(401);
    expectErrorShape(result.body, 401);
    expect(result.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('refuses a wrong key', async () => {
    const result = await post(
      `${running.url}/api/messages`,
      { content: 'bad key' },
      { 'X-API-Key': 'key-three' },
    );
    expect(result.status).toBe(401);
    expect(result.body.message).toMatch(/not valid/);
  });

  it('checks the key before reading the body: no key and a huge body is still 401', async () => {
    const result = await post(
      `${running.url}/api/messages`,
      JSON.stringify({ content: 'x'.repeat(2_000_000) }),
      {
        'content-type': 'application/json',
      },
    );
    expect(result.status).toBe(401);
  });

  it('keeps health open for probes, and the other actuator endpoints open unless ACTUATOR_REQUIRE_API_KEY', async () => {
    expect((await get(`${running.url}/actuator/health/liveness`)).status).toBe(200);
    expect((await get(`${running.url}/actuator/prometheus`)).status).toBe(200);

    const strict = await startApp({ API_KEYS: 'key-one', ACTUATOR_REQUIRE_API_KEY: 'true' });
    try {
      expect((await get(`${strict.url}/actuator/health/liveness`)).status).toBe(200);
      expect((await get(`${strict.url}/actuator/prometheus`)).status).toBe(401);
      expect((await get(`${strict.url}/actuator/prometheus`, { 'X-API-Key': 'key-one' })).status).toBe(200);
    } finally {
      await strict.close();
    }
  });
});
