import { Registry } from 'prom-client';

export interface MetricMeasurement {
  statistic: 'COUNT' | 'TOTAL' | 'TOTAL_TIME' | 'VALUE';
  value: number;
}

/** Spring's /actuator/metrics/{name} body. */
export interface MetricDescription {
  name: string;
  description: string;
  baseUnit: string | null;
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
 * Micrometer's name for a Prometheus metric, the reverse of its naming convention: counters lose `_total`,
 * timers (histograms and summaries in seconds) lose `_seconds`, and `_` becomes `.`
 * (kafka_producer_messages_sent_total → kafka.producer.messages.sent,
 * http_server_requests_seconds → http.server.requests).
 */
export function micrometerName(metric: Pick<Metric, 'name' | 'type'>): string {
  let name = metric.name;
  if (metric.type === 'counter') {
    name = name.replace(/_total$/, '');
  } else if (metric.type === 'histogram' || metric.type === 'summary') {
    name = name.replace(/_seconds$/, '');
  }
  return name.replace(/_/g, '.');
}

function baseUnitOf(name: string): string | null {
  return /_seconds(_total)?$/.test(name) ? 'seconds' : /_bytes(_total)?$/.test(name) ? 'bytes' : null;
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
 * and one metric's measurements (summed over the series that match the tag filters) and tags.
 */
export class MetricCatalog {
  constructor(private readonly registry: Registry) {}

  async names(): Promise<string[]> {
    const metrics = (await this.registry.getMetricsAsJSON()) as unknown as Metric[];
    return [...new Set(metrics.map(micrometerName))].sort();
  }

  /** undefined when no metric has that name (dotted or Prometheus), or no series matches the tags. */
  async describe(name: string, tags: Record<string, string> = {}): Promise<MetricDescription | undefined> {
    const metrics = (await this.registry.getMetricsAsJSON()) as unknown as Metric[];
    const metric = metrics.find((m) => micrometerName(m) === name) ?? metrics.find((m) => m.name === name);
    if (!metric) {
      return undefined;
    }
    const values = metric.values.filter((v) =>
      Object.entries(tags).every(([key, value]) => String(v.labels[key]) === value),
    );
    if (Object.keys(tags).length > 0 && values.length === 0) {
      return undefined;
    }
    const sum = (suffix?: string): number =>
      values
        .filter((v) => suffix === undefined || v.metricName === `${metric.name}${suffix}`)
        .reduce((total, v) => total + v.value, 0);
    const baseUnit = baseUnitOf(metric.name);
    let measurements: MetricMeasurement[];
    if (metric.type === 'histogram' || metric.type === 'summary') {
      measurements = [
        { statistic: 'COUNT', value: sum('_count') },
        { statistic: baseUnit === 'seconds' ? 'TOTAL_TIME' : 'TOTAL', value: sum('_sum') },
      ];
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
      baseUnit,
      measurements,
      availableTags: [...tagValues].map(([tag, set]) => ({ tag, values: [...set].sort() })),
    };
  }
}
