import { Registry } from 'prom-client';

export interface MetricMeasurement {
  statistic: 'COUNT' | 'TOTAL' | 'TOTAL_TIME' | 'MAX' | 'VALUE';
  value: number;
}

/** Spring's /actuator/metrics/{name} body (no `baseUnit` when the metric has none, as Spring omits nulls). */
export interface MetricDescription {
  name: string;
  description: string;
  baseUnit?: string;
  measurements: MetricMeasurement[];
  availableTags: { tag: string; values: string[] }[];
}

/** getMetricsAsJSON's entries as they are at run time (the typings declare `type` as a numeric enum). */
interface Metric {
  name: string;
  help: string;
  type: string;
  values: { value: number; metricName?: string; labels: Record<string, string | number | undefined> }[];
}

/** Labels that shape a histogram or summary rather than describe what was measured. */
const STRUCTURAL_LABELS = new Set(['le', 'quantile']);

/**
 * Metrics that are Micrometer meters under another Prometheus name: prom-client's defaults (Micrometer's
 * process.files.open is process_files_open_files), system.cpu.count (whose Micrometer name promtool
 * rejects), and the gauges named in Micrometer's convention whose unit suffix the dotted name drops.
 */
const MICROMETER_ALIASES: Record<string, { name: string; baseUnit?: string }> = {
  process_start_time_seconds: { name: 'process.start.time', baseUnit: 'seconds' },
  process_uptime_seconds: { name: 'process.uptime', baseUnit: 'seconds' },
  process_open_fds: { name: 'process.files.open', baseUnit: 'files' },
  process_max_fds: { name: 'process.files.max', baseUnit: 'files' },
  system_cpus_available: { name: 'system.cpu.count' },
};

/** The gauge holding a histogram's windowed max (distribution.ts): not a metric of its own. */
const MAX_SUFFIX = '_max';

/**
 * Micrometer's name for a Prometheus metric, the reverse of its naming convention: counters lose `_total`,
 * timers (histograms and summaries in seconds) lose `_seconds`, and `_` becomes `.`
 * (kafka_producer_messages_sent_total → kafka.producer.messages.sent,
 * http_server_requests_seconds → http.server.requests).
 */
export function micrometerName(metric: Pick<Metric, 'name' | 'type'>): string {
  const alias = MICROMETER_ALIASES[metric.name];
  if (alias) {
    return alias.name;
  }
  let name = metric.name;
  if (metric.type === 'counter') {
    name = name.replace(/_total$/, '');
  } else if (metric.type === 'histogram' || metric.type === 'summary') {
    name = name.replace(/_seconds$/, '');
  }
  return name.replace(/_/g, '.');
}

function baseUnitOf(name: string): string | undefined {
  return (
    MICROMETER_ALIASES[name]?.baseUnit ??
    (/_seconds(_total)?$/.test(name) ? 'seconds' : /_bytes(_total)?$/.test(name) ? 'bytes' : undefined)
  );
}

function isHistogram(metric: Metric): boolean {
  return metric.type === 'histogram' || metric.type === 'summary';
}

/** Every metric but the histograms' `_max` gauges, and the `_max` gauge of each histogram by its name. */
function split(metrics: Metric[]): { meters: Metric[]; maxOf: Map<string, Metric> } {
  const histograms = new Set(metrics.filter(isHistogram).map((m) => m.name));
  const maxOf = new Map<string, Metric>();
  const meters: Metric[] = [];
  for (const metric of metrics) {
    const of = metric.name.slice(0, -MAX_SUFFIX.length);
    if (metric.type === 'gauge' && metric.name.endsWith(MAX_SUFFIX) && histograms.has(of)) {
      maxOf.set(of, metric);
    } else {
      meters.push(metric);
    }
  }
  return { meters, maxOf };
}

function matches(labels: Metric['values'][number]['labels'], tags: Record<string, string>): boolean {
  return Object.entries(tags).every(([key, value]) => String(labels[key]) === value);
}

/** Parses Spring's `tag=key:value` query parameters. */
export function parseTagFilters(tags: unknown): Record<string, string> | string {
  const list = tags === undefined ? [] : Array.isArray(tags) ? (tags as unknown[]) : [tags];
  const filters: Record<string, string> = {};
  for (const tag of list) {
    const separator = typeof tag === 'string' ? tag.indexOf(':') : -1;
    if (typeof tag !== 'string' || separator <= 0) {
      return `tag must be key:value (got ${JSON.stringify(tag)})`;
    }
    filters[tag.slice(0, separator)] = tag.slice(separator + 1);
  }
  return filters;
}

/**
 * What /actuator/metrics shows, read from the Prometheus registry: the names in Micrometer's dotted form,
 * and one metric's measurements (summed over the series that match the tag filters; MAX, a histogram's
 * windowed max, is the largest of theirs) and tags.
 */
export class MetricCatalog {
  constructor(private readonly registry: Registry) {}

  async names(): Promise<string[]> {
    const { meters } = split((await this.registry.getMetricsAsJSON()) as unknown as Metric[]);
    return [...new Set(meters.map(micrometerName))].sort();
  }

  /** undefined when no metric has that name (dotted or Prometheus), or no series matches the tags. */
  async describe(name: string, tags: Record<string, string> = {}): Promise<MetricDescription | undefined> {
    const { meters, maxOf } = split((await this.registry.getMetricsAsJSON()) as unknown as Metric[]);
    const metric = meters.find((m) => micrometerName(m) === name) ?? meters.find((m) => m.name === name);
    if (!metric) {
      return undefined;
    }
    const values = metric.values.filter((v) => matches(v.labels, tags));
    if (Object.keys(tags).length > 0 && values.length === 0) {
      return undefined;
    }
    const sum = (suffix?: string): number =>
      values
        .filter((v) => suffix === undefined || v.metricName === `${metric.name}${suffix}`)
        .reduce((total, v) => total + v.value, 0);
    const baseUnit = baseUnitOf(metric.name);
    let measurements: MetricMeasurement[];
    if (isHistogram(metric)) {
      measurements = [
        { statistic: 'COUNT', value: sum('_count') },
        { statistic: baseUnit === 'seconds' ? 'TOTAL_TIME' : 'TOTAL', value: sum('_sum') },
      ];
      const max = maxOf.get(metric.name);
      if (max) {
        const maxes = max.values.filter((v) => matches(v.labels, tags)).map((v) => v.value);
        measurements.push({ statistic: 'MAX', value: Math.max(0, ...maxes) });
      }
    } else {
      measurements = [{ statistic: metric.type === 'counter' ? 'COUNT' : 'VALUE', value: sum() }];
    }
    const tagValues = new Map<string, Set<string>>();
    for (const v of values) {
      for (const [key, value] of Object.entries(v.labels)) {
        if (!STRUCTURAL_LABELS.has(key) && !(key in tags) && value !== undefined) {
          tagValues.set(key, (tagValues.get(key) ?? new Set()).add(String(value)));
        }
      }
    }
    return {
      name: micrometerName(metric),
      description: metric.help,
      ...(baseUnit === undefined ? {} : { baseUnit }),
      measurements,
      availableTags: [...tagValues].map(([tag, set]) => ({ tag, values: [...set].sort() })),
    };
  }
}
