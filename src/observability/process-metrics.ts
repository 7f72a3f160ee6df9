import { availableParallelism, cpus, loadavg } from 'node:os';
import { Provider } from '@nestjs/common';
import { makeGaugeProvider } from '@willsoto/nestjs-prometheus';

/** A recent CPU figure is recomputed at most this often; scrapes in between see the last one. */
const CPU_WINDOW_MS = 1000;

/** A ratio of busy time over a window: the window since the previous reading, at least CPU_WINDOW_MS long. */
class RecentUsage {
  private last: { busy: number; total: number };
  private value: number;

  constructor(private readonly read: () => { busy: number; total: number }) {
    this.last = read();
    this.value = ratio(this.last.busy, this.last.total);
  }

  get(minTotalDelta: number): number {
    const now = this.read();
    const total = now.total - this.last.total;
    if (total >= minTotalDelta) {
      this.value = ratio(now.busy - this.last.busy, total);
      this.last = now;
    }
    return this.value;
  }
}

function ratio(busy: number, total: number): number {
  return total > 0 ? Math.min(1, Math.max(0, busy / total)) : 0;
}

/** This process's CPU time over the wall time of all available CPUs, in microseconds. */
function processCpu(): { busy: number; total: number } {
  const { user, system } = process.cpuUsage();
  return { busy: user + system, total: process.uptime() * 1e6 * availableParallelism() };
}

/** Every CPU's busy and total time since boot, in milliseconds. */
function systemCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

// Once per process, like the gauges that read them (the registry keeps the first app's gauges).
const processUsage = new RecentUsage(processCpu);
const systemUsage = new RecentUsage(systemCpu);

function gauge(
  name: string,
  help: string,
  aggregator: 'sum' | 'max' | 'first',
  read: () => number,
): Provider {
  return makeGaugeProvider({
    name,
    help,
    labelNames: [],
    aggregator,
    collect() {
      this.set(read());
    },
  });
}

/**
 * Micrometer's process and system meters that mean the same for a Node.js process, under Micrometer's
 * Prometheus names (so Spring dashboards and Spring Boot Admin's process panel find them):
 * process.uptime, process.cpu.usage, system.cpu.usage, system.load.average.1m, and system.cpu.count as
 * system_cpus_available. Its process.start.time and process.files.open/max are prom-client's default
 * process_start_time_seconds and process_open_fds/process_max_fds. /actuator/metrics shows them all under
 * Micrometer's dotted names (metric-catalog.ts). Gauge providers whose value is read at each scrape.
 */
export const PROCESS_METRIC_PROVIDERS: Provider[] = [
  gauge('process_uptime_seconds', 'The uptime of the Node.js process', 'max', () => process.uptime()),
  gauge(
    'process_cpu_usage',
    'The recent CPU usage of the Node.js process (0 to 1, of all available CPUs)',
    'sum',
    () => processUsage.get(CPU_WINDOW_MS * 1000 * availableParallelism()),
  ),
  gauge('system_cpu_usage', 'The recent CPU usage of the whole system (0 to 1)', 'first', () =>
    systemUsage.get(CPU_WINDOW_MS * cpus().length),
  ),
  // Micrometer's Prometheus name, system_cpu_count, is one promtool rejects (a gauge may not end in _count).
  gauge(
    'system_cpus_available',
    'The number of processors available to the Node.js process',
    'first',
    availableParallelism,
  ),
  ...(process.platform === 'win32'
    ? []
    : [
        gauge(
          'system_load_average_1m',
          'The system load average over the last minute (runnable processes, as the OS counts them)',
          'first',
          () => loadavg()[0] ?? 0,
        ),
      ]),
];
