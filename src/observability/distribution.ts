import { Gauge, Histogram, LabelValues, Registry } from 'prom-client';
import { TimeWindowMax } from './time-window-max';

export interface DistributionConfig<T extends string> {
  name: string;
  help: string;
  labelNames: readonly T[];
  buckets: number[];
  /** The default registry when not given. */
  registers?: Registry[];
}

/**
 * A Micrometer Timer (or DistributionSummary) on prom-client, exported as Micrometer's Prometheus registry
 * does: the histogram (`_bucket`, `_count`, `_sum`) and the gauge `<name>_max`, each series' largest sample
 * of the last 2 minutes (TimeWindowMax), which /actuator/metrics shows as the MAX statistic. Across
 * workers the max is the largest of theirs.
 */
export class Distribution<T extends string = string> {
  readonly histogram: Histogram<T>;
  private readonly maxes = new Map<string, { labels: LabelValues<T>; max: TimeWindowMax }>();

  constructor(private readonly config: DistributionConfig<T>) {
    this.histogram = new Histogram(config);
    const maxes = this.maxes;
    new Gauge<T>({
      name: `${config.name}_max`,
      help: `${config.help} (largest of the last 2 minutes)`,
      labelNames: config.labelNames,
      aggregator: 'max',
      ...(config.registers ? { registers: config.registers } : {}),
      collect() {
        this.reset();
        for (const { labels, max } of maxes.values()) {
          this.set(labels, max.poll());
        }
      },
    });
  }

  observe(value: number): void;
  observe(labels: LabelValues<T>, value: number): void;
  observe(labelsOrValue: LabelValues<T> | number, sample?: number): void {
    const labels: LabelValues<T> = typeof labelsOrValue === 'number' ? {} : labelsOrValue;
    const value = typeof labelsOrValue === 'number' ? labelsOrValue : (sample ?? 0);
    this.histogram.observe(labels, value);
    const key = this.config.labelNames.map((name) => String(labels[name] ?? '')).join('\u0000');
    let entry = this.maxes.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, max: new TimeWindowMax() };
      this.maxes.set(key, entry);
    }
    entry.max.record(value);
  }

  /** Forgets every series (histogram and max). */
  reset(): void {
    this.histogram.reset();
    this.maxes.clear();
  }

  /** Starts timing; the returned function observes the seconds elapsed and returns them. */
  startTimer(labels: LabelValues<T> = {}): () => number {
    const start = process.hrtime.bigint();
    return () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      this.observe(labels, seconds);
      return seconds;
    };
  }
}
