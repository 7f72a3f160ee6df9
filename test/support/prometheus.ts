import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../scripts/kafka/local-kafka';
import { eventually } from './eventually';

export interface RunningPrometheus {
  url: string;
  /** Instant query through Prometheus' HTTP API: the sample values, by series. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  /** The scrape targets' health as Prometheus reports it ("up", "down", "unknown"). */
  targetHealth(): Promise<string[]>;
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  status: string;
  data: T;
}

/**
 * Starts Debian's Prometheus on a free port, scraping `target` (host:port) at /actuator/prometheus every
 * second, with its storage in a temp dir that stop() removes.
 */
export async function startPrometheus(target: string): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'obs-prometheus-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: kafka-producer-service',
      '    metrics_path: /actuator/prometheus',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const answer = (await response.json()) as ApiAnswer<T>;
    if (answer.status !== 'success') {
      throw new Error(`Prometheus ${path}: ${JSON.stringify(answer)}`);
    }
    return answer.data;
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(async () => {
      if (child.exitCode !== null) {
        throw new Error(`Prometheus exited with ${child.exitCode}`);
      }
      expect((await fetch(`${url}/-/ready`)).ok).toBe(true);
    }, 20000);
  } catch (error) {
    await stop();
    throw new Error(`Prometheus did not become ready on ${url}: ${(error as Error).message}`);
  }
  return {
    url,
    stop,
    query: async (expr) => {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    targetHealth: async () => {
      const data = await api<{ activeTargets: { health: string }[] }>('/api/v1/targets');
      return data.activeTargets.map((t) => t.health);
    },
  };
}

/** `promtool check metrics` on an exposition: its complaints (empty when there are none) and exit code. */
export function promtoolCheckMetrics(exposition: string): { status: number | null; problems: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: result.status, problems: `${result.stdout}${result.stderr}`.trim() };
}
