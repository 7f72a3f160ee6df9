import { RunningApp, startApp } from './support/app';
import { post } from './support/http';

// The refusals (no key, wrong key, before the body, actuator): test/fast/api-keys.e2e-spec.ts, no broker needed.
describe('API keys (API_KEYS set), against the broker', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ API_KEYS: 'key-one, key-two' });
  });
  afterAll(async () => {
    await running.close();
  });

  it('accepts any configured key as a Bearer token or as X-API-Key', async () => {
    const bearer = await post(
      `${running.url}/api/messages`,
      { content: 'bearer' },
      { Authorization: 'Bearer key-one' },
    );
    const header = await post(`${running.url}/api/messages/simple?content=header`, undefined, {
      'X-API-Key': 'key-two',
    });
    expect([bearer.status, header.status]).toEqual([200, 200]);
  });
});
