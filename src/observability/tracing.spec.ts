// The OpenTelemetry SDK and its OTLP exporter (~1.4 MB of heap) are loaded only when an OTLP endpoint turns
// tracing on; the W3C propagator is always there. test/tracing.e2e-spec.ts proves the spans themselves.
describe('tracing', () => {
  const SDK = [
    '@opentelemetry/sdk-trace-node',
    '@opentelemetry/exporter-trace-otlp-http',
    '@opentelemetry/resources',
  ];
  const environment = { ...process.env };
  let loaded: string[];

  beforeEach(() => {
    loaded = [];
    jest.resetModules();
    for (const name of SDK) {
      jest.doMock(name, () => {
        loaded.push(name);
        return jest.requireActual<object>(name);
      });
    }
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  });

  afterEach(() => {
    process.env = { ...environment };
    for (const name of SDK) {
      jest.dontMock(name);
    }
  });

  it('without an OTLP endpoint, does not load the SDK and stays off', async () => {
    const tracing = await import('./tracing');
    expect(await tracing.startTracing('svc')).toBe(false);
    expect(tracing.tracingOn()).toBe(false);
    expect(loaded).toEqual([]);
  });

  it('with one, loads the SDK, starts it once and stops it', async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = 'http://127.0.0.1:9';
    const tracing = await import('./tracing');
    expect(loaded).toEqual([]);
    expect(await tracing.startTracing('svc')).toBe(true);
    expect(tracing.tracingOn()).toBe(true);
    expect(loaded.sort()).toEqual([...SDK].sort());
    expect(await tracing.startTracing('svc')).toBe(true);
    expect(loaded).toHaveLength(SDK.length);
    await tracing.stopTracing();
    expect(tracing.tracingOn()).toBe(false);
  });
});
