import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { parse } from 'yaml';
import { kafkaVersion } from '../../scripts/kafka/local-kafka';
import { V8_FLAGS } from '../../scripts/node-flags';
import { Environment, validateEnvironment } from '../../src/config/environment';

// Docker does not run where the suite runs: these tests check what can be checked without it and without
// Kafka (the compose file's wiring, the mounted configuration, the Dockerfile's shape). The Dockerfile's
// health check and the dashboard against a live service: test/deploy.e2e-spec.ts, against the broker.

const ROOT = resolve(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface ComposeService {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  ports?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] | string };
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
const services = compose.services;
const SERVICE = 'kafka-producer-service';
const dashboard = JSON.parse(read('deploy/grafana/dashboards/kafka-producer-service.json')) as {
  uid: string;
  panels: Panel[];
};

/** `./deploy/x:/etc/x:ro` → { host: 'deploy/x', container: '/etc/x' } for bind mounts. */
function mountsOf(service: ComposeService): { host: string; container: string }[] {
  return (service.volumes ?? [])
    .map((volume) => volume.split(':'))
    .filter(([host]) => host?.startsWith('.') || host?.startsWith('/'))
    .map(([host, container]) => ({ host: posix.normalize(host!), container: container! }));
}

function containerPort(service: ComposeService, hostPort: number): number {
  const mapping = (service.ports ?? []).find((port) => port.split(':')[0] === String(hostPort));
  return Number(mapping?.split(':')[1]);
}

describe('docker-compose.yml', () => {
  it('runs Kafka, the service, Kafka UI, Prometheus and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['grafana', 'kafka', 'kafka-producer-service', 'kafka-ui', 'prometheus'].sort(),
    );
  });

  it("runs the official apache/kafka image at the test suite's Kafka version, in KRaft mode", () => {
    const kafka = services.kafka!;
    const env = kafka.environment ?? {};

    expect(kafka.image).toBe(`apache/kafka:${kafkaVersion()}`);
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe(`${env.KAFKA_NODE_ID}@kafka:9093`);
    expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe(1);
    expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe(1);
    expect(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe(1);
  });

  it('gives Kafka a listener for the host on localhost:29092 and one for the containers on kafka:9092', () => {
    const env = services.kafka!.environment ?? {};
    const advertised = String(env.KAFKA_ADVERTISED_LISTENERS).split(',');
    const listenerNames = String(env.KAFKA_LISTENERS)
      .split(',')
      .map((listener) => listener.split(':')[0]);
    const mapped = String(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP)
      .split(',')
      .map((entry) => entry.split(':')[0]);

    expect(advertised).toEqual(
      expect.arrayContaining(['PLAINTEXT_HOST://localhost:29092', 'PLAINTEXT://kafka:9092']),
    );
    expect(services.kafka!.ports).toContain('29092:29092');
    expect(mapped).toEqual(expect.arrayContaining(listenerNames));
    expect(services[SERVICE]!.environment?.KAFKA_BROKERS).toBe('kafka:9092');
  });

  it('builds the service from the Dockerfile with a configuration the service accepts', () => {
    const service = services[SERVICE]!;
    const env = Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([key, value]) => [key, String(value)]),
    );

    expect(service.build).toBe('.');
    expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    expect(service.ports).toContain('8080:8080');
    expect(() => validateEnvironment(env)).not.toThrow();
    expect(validateEnvironment(env).KAFKA_BROKERS).toEqual(['kafka:9092']);
  });

  it('starts each container only once what it needs is healthy, and every such service has a health check', () => {
    const dockerfileHasHealthcheck = /^HEALTHCHECK /m.test(read('Dockerfile'));
    const waits = Object.entries(services).flatMap(([name, service]) =>
      Object.entries(service.depends_on ?? {}).map(([on, { condition }]) => ({ name, on, condition })),
    );

    expect(waits).toEqual(
      expect.arrayContaining([
        { name: SERVICE, on: 'kafka', condition: 'service_healthy' },
        { name: 'kafka-ui', on: 'kafka', condition: 'service_healthy' },
      ]),
    );
    for (const { on, condition } of waits) {
      const target = services[on]!;
      expect(condition).toBe('service_healthy');
      expect(
        target.healthcheck !== undefined || (target.build !== undefined && dockerfileHasHealthcheck),
      ).toBe(true);
    }
  });

  it('publishes each service on its own host port, Kafka UI beside the service on 8081', () => {
    const hostPorts = Object.values(services).flatMap((service) =>
      (service.ports ?? []).map((port) => port.split(':')[0]),
    );

    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    expect(services['kafka-ui']!.ports).toEqual(['8081:8080']);
  });

  it('mounts only configuration files that exist in the repository', () => {
    const mounts = Object.values(services).flatMap(mountsOf);

    expect(mounts.map((m) => m.host).sort()).toEqual([
      'deploy/grafana/dashboards',
      'deploy/grafana/provisioning',
      'deploy/prometheus/prometheus.yml',
    ]);
    for (const { host } of mounts) {
      expect(existsSync(join(ROOT, host))).toBe(true);
    }
  });
});

describe('Prometheus and Grafana configuration', () => {
  const prometheusMount = mountsOf(services.prometheus!).find((m) => m.host.endsWith('prometheus.yml'))!;
  const grafanaMounts = mountsOf(services.grafana!);

  it('passes promtool check config', () => {
    const check = spawnSync('promtool', ['check', 'config', join(ROOT, prometheusMount.host)], {
      encoding: 'utf8',
    });

    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it("scrapes the service's /actuator/prometheus by its compose service name and container port", () => {
    const config = parse(read(prometheusMount.host)) as {
      scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const [scrape] = config.scrape_configs;

    expect(prometheusMount.container).toBe('/etc/prometheus/prometheus.yml');
    expect(scrape?.metrics_path).toBe('/actuator/prometheus');
    expect(scrape?.static_configs[0]?.targets).toEqual([
      `${SERVICE}:${containerPort(services[SERVICE]!, 8080)}`,
    ]);
  });

  it('provisions a Prometheus datasource pointing at the compose Prometheus, under the uid every panel uses', () => {
    const provisioning = grafanaMounts.find((m) => m.host.endsWith('provisioning'))!;
    const datasources = parse(read(`${provisioning.host}/datasources/prometheus.yml`)) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    const [datasource] = datasources.datasources;
    const uids = new Set(
      dashboard.panels
        .filter((panel) => panel.type !== 'row')
        .flatMap((panel) => [panel.datasource?.uid, ...(panel.targets ?? []).map((t) => t.datasource?.uid)]),
    );

    expect(provisioning.container).toBe('/etc/grafana/provisioning');
    expect(datasource?.type).toBe('prometheus');
    expect(datasource?.url).toBe(`http://prometheus:${containerPort(services.prometheus!, 9090)}`);
    expect([...uids]).toEqual([datasource?.uid]);
  });

  it('loads the dashboard from the folder compose mounts, and makes it the home dashboard', () => {
    const provisioning = grafanaMounts.find((m) => m.host.endsWith('provisioning'))!;
    const dashboards = grafanaMounts.find((m) => m.host.endsWith('dashboards'))!;
    const providers = parse(read(`${provisioning.host}/dashboards/kafka-producer-service.yml`)) as {
      providers: { type: string; options: { path: string } }[];
    };
    const home = String(services.grafana!.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH);

    expect(providers.providers[0]?.options.path).toBe(dashboards.container);
    expect(home.startsWith(`${dashboards.container}/`)).toBe(true);
    expect(existsSync(join(ROOT, dashboards.host, posix.basename(home)))).toBe(true);
  });
});

describe('.env.example', () => {
  const lines = read('.env.example').split('\n');
  const set = Object.fromEntries(
    lines.flatMap((line) => {
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      return match ? [[match[1]!, match[2]!]] : [];
    }),
  );
  const commented = lines.flatMap((line) => /^# ([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] ?? []);

  it('lists every variable the service reads, each once', () => {
    const listed = [...Object.keys(set), ...commented];

    expect(listed.sort()).toEqual(Object.keys(new Environment()).sort());
  });

  it('gives each set variable its default, so copying it to .env changes nothing', () => {
    const fromFile = validateEnvironment(set) as unknown as Record<string, unknown>;
    const defaults = new Environment() as unknown as Record<string, unknown>;

    expect(fromFile).toEqual(defaults);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile').replace(/\\\n\s*/g, '');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';

  it('builds in a separate stage and runs production dependencies only, as the unprivileged node user', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(runtime).toMatch(/^COPY --from=\S+ \/app\/dist \.\/dist$/m);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/NODE_ENV=production/);
  });

  it('has patches/ in place before every npm ci, whose postinstall (patch-package --error-on-fail) applies them or fails the build', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    const installing = stages.filter((stage) => /^RUN npm ci\b/m.test(stage));

    expect(scripts.postinstall).toBe('patch-package --error-on-fail');
    expect(installing).toHaveLength(2);
    for (const stage of installing) {
      const copied = stage.search(/^COPY patches \.\/patches$/m);
      expect(copied).toBeGreaterThan(-1);
      expect(copied).toBeLessThan(stage.search(/^RUN npm ci\b/m));
    }
  });

  it('starts node in exec form, so SIGTERM reaches the process that drains and exits', () => {
    const cmd = /^CMD (.*)$/m.exec(runtime.replace(/^HEALTHCHECK .*$/m, ''))?.[1] ?? '';

    expect(JSON.parse(cmd)).toEqual(['node', ...V8_FLAGS, 'dist/main.js']);
  });

  it("runs the service with the same V8 flags as package.json's start scripts", () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> };

    expect(V8_FLAGS).toEqual([
      '--max-old-space-size=1024',
      '--max-semi-space-size=32',
      '--no-maglev',
      '--no-allocation-site-pretenuring',
    ]);
    expect(scripts.start).toBe(`node ${V8_FLAGS.join(' ')} dist/main.js`);
    expect(scripts['start:dev']).toBe(`tsc -p tsconfig.build.json && ${scripts.start}`);
  });

  it('copies only what exists and what .dockerignore lets into the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    const sources = [
      ...new Set([...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '))),
    ];

    expect(sources.sort()).toEqual([
      'package-lock.json',
      'package.json',
      'patches',
      'src',
      'tsconfig.build.json',
      'tsconfig.json',
    ]);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source))).toBe(true);
      expect(ignored).not.toContain(source);
    }
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git', '.run', '.cache']));
  });
});
