import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../scripts/kafka/local-kafka';
import { RunningApp, startApp } from './support/app';
import { get, post } from './support/http';
import { RunningPrometheus, startPrometheus } from './support/prometheus';

// Docker does not run where the suite runs: these tests run the Dockerfile's health check against a live
// service and check that the dashboard only asks for metrics the service really exports. The static checks
// of the compose file, the mounted configuration and the Dockerfile: test/fast/deploy.e2e-spec.ts.

const ROOT = resolve(__dirname, '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}

const dashboard = JSON.parse(read('deploy/grafana/dashboards/kafka-producer-service.json')) as {
  uid: string;
  panels: Panel[];
};
const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));

/**
 * The metric names a PromQL expression reads: identifiers left once string literals, label matchers,
 * range selectors, grouping clauses and function calls are taken out, without keywords; histogram series
 * (`_bucket`, `_sum`, `_count`) are named by their base metric.
 */
function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without']);
  const names = [...bare.matchAll(/(?<![\w:$])([A-Za-z_:][\w:]*)(?![\w:]|\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !keywords.has(name) && !/^(inf|nan)$/i.test(name));
  return [...new Set(names.map((name) => name.replace(/_(bucket|sum|count)$/, '')))];
}

/**
 * Runs a command and resolves with its exit code. Asynchronous on purpose: the service under test runs in
 * this process, so a synchronous spawn would block the very server the command calls.
 */
async function exitCodeOf(command: string[], env: Record<string, string>): Promise<number> {
  try {
    await promisify(execFile)(command[0]!, command.slice(1), {
      env: { ...process.env, ...env },
      timeout: 10000,
    });
    return 0;
  } catch (error) {
    return Number((error as { code?: unknown }).code ?? -1);
  }
}

/** Metric families a text exposition declares (`# TYPE name type`). */
function exportedNames(exposition: string): Set<string> {
  return new Set([...exposition.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]!));
}

describe('The Dockerfile health check', () => {
  const dockerfile = read('Dockerfile').replace(/\\\n\s*/g, '');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1) ?? '';
  const healthcheck = JSON.parse(/^HEALTHCHECK .*?CMD (\[.*\])$/m.exec(runtime)?.[1] ?? '[]') as string[];
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
    // The health check passes once the producer is connected: one acknowledged send makes sure of it.
    expect((await post(`${running.url}/api/messages`, { content: 'ready?' })).status).toBe(200);
  });
  afterAll(async () => {
    await running?.close();
  });

  it('has a health check on readiness that passes against a running service', async () => {
    const code = await exitCodeOf(healthcheck, { PORT: new URL(running.url).port });

    expect(healthcheck.join(' ')).toContain('/actuator/health/readiness');
    expect(code).toBe(0);
  });

  it('has a health check that fails when nothing answers', async () => {
    const code = await exitCodeOf(healthcheck, { PORT: String(await freePort()) });

    expect(code).toBe(1);
  });
});

describe('The Grafana dashboard against a live /actuator/prometheus', () => {
  let running: RunningApp;
  let exposition: string;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    running = await startApp();
    const sends = await Promise.all([
      post(`${running.url}/api/messages`, { content: 'for the dashboard', type: 'INFO' }),
      post(`${running.url}/api/messages/batch`, [{ content: 'one' }, { content: 'two' }]),
    ]);
    expect(sends.map((s) => s.status)).toEqual([200, 200]);
    exposition = (await get<string>(`${running.url}/actuator/prometheus`)).body;
    prometheus = await startPrometheus(new URL(running.url).host);
  });
  afterAll(async () => {
    await prometheus?.stop();
    await running?.close();
  });

  it('reads metric names from PromQL as Prometheus would', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.95, sum by (le, uri) (rate(http_server_requests_seconds_bucket{uri!~"/a.*"}[$__rate_interval])))',
      ),
    ).toEqual(['http_server_requests_seconds']);
    expect(metricNamesOf('sum(rate(a_total[1m])) / sum(b_count offset 5m) or vector(0)')).toEqual([
      'a_total',
      'b',
    ]);
  });

  it('asks in every query only for metrics the service exports', () => {
    const exported = exportedNames(exposition);
    const unknown = exprs.flatMap((expr) =>
      metricNamesOf(expr)
        .filter((name) => !exported.has(name))
        .map((name) => `${name} in ${expr}`),
    );

    expect(exprs.length).toBeGreaterThanOrEqual(15);
    expect(exprs.every((expr) => metricNamesOf(expr).length > 0)).toBe(true);
    expect(unknown).toEqual([]);
  });

  it('shows sent and failed rates, send-time percentiles, HTTP latency by route, feedback, memory and event-loop lag', () => {
    const used = new Set(exprs.flatMap(metricNamesOf));

    expect([...used]).toEqual(
      expect.arrayContaining([
        'kafka_producer_messages_sent_total',
        'kafka_producer_messages_failed_total',
        'kafka_producer_message_send_time_seconds',
        'http_server_requests_seconds',
        'kafka_producer_messages_received_total',
        'kafka_producer_messages_dead_lettered_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_p99_seconds',
      ]),
    );
    expect(
      exprs.some((e) =>
        /histogram_quantile\(0\.99, .*kafka_producer_message_send_time_seconds_bucket/.test(e),
      ),
    ).toBe(true);
    expect(exprs.some((e) => /by \([^)]*\buri\b[^)]*\).*http_server_requests_seconds_bucket/.test(e))).toBe(
      true,
    );
  });

  it('has only queries a real Prometheus, scraping the service, evaluates without error', async () => {
    // Grafana replaces $__rate_interval; Prometheus' API answers 'error' (and query() throws) on bad PromQL.
    const results = await Promise.all(
      exprs.map(async (expr) => {
        await prometheus.query(expr.replace(/\$__rate_interval/g, '1m'));
        return expr;
      }),
    );

    expect(results).toEqual(exprs);
  });
});
