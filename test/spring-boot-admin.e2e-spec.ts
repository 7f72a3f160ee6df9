import { RunningApp, startApp } from './support/app';
import { eventually } from './support/eventually';
import { get, post } from './support/http';
import { RunningAdminServer, startAdminServer } from './support/spring-boot-admin';

type Components = Record<string, { status: string; details?: Record<string, unknown> }>;

/** An instance as Spring Boot Admin's REST API (`GET /instances/{id}`) shows it. */
interface Instance {
  id: string;
  statusInfo: { status: string; details: Components };
  endpoints: { id: string; url: string }[];
  info: Record<string, unknown>;
}

interface Metric {
  name: string;
  measurements: { statistic: string; value: number }[];
  availableTags: { tag: string; values: string[] }[];
}

/** What Spring Boot Admin's UI sends on every actuator call it proxies. */
const ADMIN_UI_ACCEPT = [
  'application/vnd.spring-boot.actuator.v3+json',
  'application/vnd.spring-boot.actuator.v2+json',
  'application/vnd.spring-boot.actuator.v1+json',
  'application/json',
].join(',');

/**
 * The real client: Spring Boot Admin 3.5 (codecentric, from Maven Central), with the service registered
 * through its REST API, next to a real Spring Boot 3.5 app as the control (the admin server's own actuator,
 * registered the same way). Everything is asserted through what Spring Boot Admin itself reports.
 */
describe('Spring Boot Admin (real client, real broker)', () => {
  let admin: RunningAdminServer;
  let running: RunningApp;
  let service: Instance;
  let control: Instance;

  const instance = async (id: string): Promise<Instance> => {
    const { status, body } = await get<Instance>(`${admin.url}/instances/${id}`, {
      accept: 'application/json',
    });
    expect(status).toBe(200);
    return body;
  };

  /** Through Spring Boot Admin's proxy, as its UI reads an instance's actuator. */
  const proxied = <T>(id: string, path: string): Promise<{ status: number; type: string; body: T }> =>
    get<T>(`${admin.url}/instances/${id}/actuator/${path}`, { accept: ADMIN_UI_ACCEPT }).then(
      ({ status, headers, body }) => ({ status, type: headers.get('content-type') ?? '', body }),
    );

  const register = async (
    name: string,
    serviceUrl: string,
    managementUrl: string,
    healthUrl?: string,
  ): Promise<string> => {
    const { status, body } = await post<{ id: string }>(
      `${admin.url}/instances`,
      { name, serviceUrl, managementUrl, healthUrl: healthUrl ?? `${managementUrl}/health` },
      { accept: 'application/json' },
    );
    expect(status).toBe(201);
    return body.id;
  };

  /** Registration starts a health check and endpoint detection at once; both are done in a second or two. */
  const settled = (id: string): Promise<Instance> =>
    eventually(
      async () => {
        const seen = await instance(id);
        expect(seen.statusInfo.status).toBe('UP');
        expect(seen.endpoints.map((e) => e.id)).toContain('metrics');
        return seen;
      },
      30_000,
      250,
    );

  beforeAll(async () => {
    // Spring Boot Admin sends no API key: the details it shows need HEALTH_SHOW_DETAILS=always, as a Spring
    // app monitored by it needs management.endpoint.health.show-details=always.
    [admin, running] = await Promise.all([startAdminServer(), startApp({ HEALTH_SHOW_DETAILS: 'always' })]);
    const [serviceId, controlId] = await Promise.all([
      register('kafka-producer-service', running.url, `${running.url}/actuator`),
      register('spring-boot-control', admin.url, admin.actuatorUrl),
    ]);
    [service, control] = await Promise.all([settled(serviceId), settled(controlId)]);
  }, 150_000);
  afterAll(async () => {
    await running?.close();
    await admin?.stop();
  });

  it('shows the service UP with health, info, metrics and prometheus detected from its /actuator index', () => {
    expect(service.statusInfo.status).toBe('UP');
    expect(Object.fromEntries(service.endpoints.map((e) => [e.id, e.url]))).toEqual({
      health: `${running.url}/actuator/health`,
      info: `${running.url}/actuator/info`,
      metrics: `${running.url}/actuator/metrics`,
      prometheus: `${running.url}/actuator/prometheus`,
    });
    // Every endpoint the Spring control exposes (health, info, metrics) is detected for the service too.
    expect(service.endpoints.map((e) => e.id)).toEqual(
      expect.arrayContaining(control.endpoints.map((e) => e.id)),
    );
  });

  it('found them through GET /actuator, without falling back to OPTIONS probes (the service counts its requests)', async () => {
    const index = await get<Metric>(`${running.url}/actuator/metrics/http.server.requests?tag=uri:/actuator`);
    const probes = await get(`${running.url}/actuator/metrics/http.server.requests?tag=method:OPTIONS`);

    expect(index.status).toBe(200);
    expect(index.body.availableTags).toContainEqual({ tag: 'method', values: ['GET'] });
    expect(index.body.availableTags).toContainEqual({ tag: 'status', values: ['200'] });
    // No series with method=OPTIONS: no probe was needed.
    expect(probes.status).toBe(404);
  });

  it('falls back to OPTIONS probes when it does not read the index, and finds info and metrics', async () => {
    // Spring Boot Admin skips the index when the management URL is the service URL, and probes instead;
    // instances are told apart by health URL, so this one registers the readiness group as its health.
    const actuator = `${running.url}/actuator`;
    const probedId = await register('probed', actuator, actuator, `${actuator}/health/readiness`);
    const probed = await settled(probedId);

    expect(probed.id).not.toBe(service.id);
    expect(Object.fromEntries(probed.endpoints.map((e) => [e.id, e.url]))).toEqual({
      health: `${actuator}/health/readiness`,
      info: `${actuator}/info`,
      metrics: `${actuator}/metrics`,
    });
    const probes = await get<Metric>(
      `${running.url}/actuator/metrics/http.server.requests?tag=method:OPTIONS`,
    );
    expect(probes.body.availableTags).toContainEqual({ tag: 'status', values: ['200', '404'] });
  });

  it('stores health components flat, one per component, as for the Spring Boot control (no legacy conversion)', () => {
    const details = service.statusInfo.details;
    expect(details).toMatchObject({
      kafka: { status: 'UP', details: { brokerCount: 1, clusterId: expect.any(String) } },
      kafkaProducer: { status: 'UP', details: { connected: true } },
    });
    // A Spring Boot 1.x conversion would have nested everything under `details`/`components`.
    expect(details).not.toHaveProperty('details');
    expect(details).not.toHaveProperty('components');
    for (const components of [details, control.statusInfo.details]) {
      for (const component of Object.values(components)) {
        expect(Object.keys(component).every((key) => key === 'status' || key === 'details')).toBe(true);
        expect(typeof component.status).toBe('string');
      }
    }
  });

  it("reads the service's info", () => {
    expect(service.info).toMatchObject({ app: { name: 'kafka-producer-service' } });
  });

  it('proxies health in the v3 media type, with the health groups, as for the control', async () => {
    const [ours, spring] = await Promise.all([
      proxied<{ groups?: string[] }>(service.id, 'health'),
      proxied<{ groups?: string[] }>(control.id, 'health'),
    ]);

    expect([ours.status, spring.status]).toEqual([200, 200]);
    expect(ours.type).toMatch(/^application\/vnd\.spring-boot\.actuator\.v3\+json/);
    expect(spring.type).toMatch(/^application\/vnd\.spring-boot\.actuator\.v3\+json/);
    expect(ours.body.groups).toEqual(['liveness', 'readiness']);
    expect(ours.body.groups).toEqual(spring.body.groups);
  });

  it('reads process.uptime through its proxy in the same shape as the control', async () => {
    const [ours, spring] = await Promise.all([
      proxied<Metric>(service.id, 'metrics/process.uptime'),
      proxied<Metric>(control.id, 'metrics/process.uptime'),
    ]);

    expect([ours.status, spring.status]).toEqual([200, 200]);
    expect(Object.keys(ours.body)).toEqual(Object.keys(spring.body));
    expect(ours.body).toMatchObject({
      name: 'process.uptime',
      baseUnit: 'seconds',
      measurements: [{ statistic: 'VALUE', value: expect.any(Number) }],
      availableTags: [],
    });
    expect(ours.body.measurements[0]!.value).toBeGreaterThan(0);
  });

  it('reads http.server.requests through its proxy with the statistics and tags the control has', async () => {
    const [ours, spring] = await Promise.all([
      proxied<Metric>(service.id, 'metrics/http.server.requests'),
      proxied<Metric>(control.id, 'metrics/http.server.requests'),
    ]);

    expect([ours.status, spring.status]).toEqual([200, 200]);
    const statistics = (metric: Metric): string[] => metric.measurements.map((m) => m.statistic);
    const tags = (metric: Metric): string[] => metric.availableTags.map((t) => t.tag).sort();
    expect(statistics(ours.body)).toEqual(['COUNT', 'TOTAL_TIME', 'MAX']);
    expect(statistics(ours.body)).toEqual(statistics(spring.body));
    expect(tags(ours.body)).toEqual(tags(spring.body));
    // Spring Boot Admin's own health checks of the service are among the requests counted.
    const uris = ours.body.availableTags.find((t) => t.tag === 'uri')?.values ?? [];
    expect(uris).toEqual(expect.arrayContaining(['/actuator', '/actuator/health']));
    const exceptions = ours.body.availableTags.find((t) => t.tag === 'exception')?.values ?? [];
    expect(exceptions).toContain('none');
  });
});
