import { Inject, Provider } from '@nestjs/common';
import { getToken, makeGaugeProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
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

/** The help text of a distribution's `_max` gauge. */
function maxHelp(help: string): string {
  return `${help} (largest of the last 2 minutes)`;
}

/** One series of a `_max` gauge: its labels and its recent largest sample. */
interface Series<T extends string> {
  labels: LabelValues<T>;
  max: TimeWindowMax;
}

/** The labels of a distribution without any (prom-client never changes the object it is given). */
const NO_LABELS: LabelValues<never> = Object.freeze({});

/** Each series' recent largest sample (TimeWindowMax), by label values: what a `_max` gauge exports. */
export class WindowMaxes<T extends string = string> {
  private readonly maxes = new Map<string, Series<T>>();

  constructor(private readonly labelNames: readonly T[]) {}

  record(labels: LabelValues<T>, value: number): void {
    // Without labels the key is '': nothing is built.
    let key = '';
    for (const name of this.labelNames) {
      key += `${labels[name] ?? ''}\u0000`;
    }
    (this.maxes.get(key) ?? this.entry(key, labels)).max.record(value);
  }

  private entry(key: string, labels: LabelValues<T>): Series<T> {
    const entry = { labels: { ...labels }, max: new TimeWindowMax() };
    this.maxes.set(key, entry);
    return entry;
  }

  clear(): void {
    this.maxes.clear();
  }

  /** The `_max` gauge's collect: one sample per series, its current max. */
  collectInto(gauge: Gauge<T>): void {
    gauge.reset();
    for (const { labels, max } of this.maxes.values()) {
      gauge.set(labels, max.poll());
    }
  }
}

/**
 * A Micrometer Timer (or DistributionSummary) on prom-client, exported as Micrometer's Prometheus registry
 * does: the histogram (`_bucket`, `_count`, `_sum`) and the gauge `<name>_max`, each series' largest sample
 * of the last 2 minutes (TimeWindowMax), which /actuator/metrics shows as the MAX statistic. Across
 * workers the max is the largest of theirs.
 */
export class Distribution<T extends string = string> {
  constructor(
    readonly histogram: Histogram<T>,
    private readonly maxes: WindowMaxes<T>,
  ) {}

  /** A distribution made by hand on the given registries (the service's own come from providers). */
  static create<T extends string>(config: DistributionConfig<T>): Distribution<T> {
    const maxes = new WindowMaxes(config.labelNames);
    new Gauge<T>({
      name: `${config.name}_max`,
      help: maxHelp(config.help),
      labelNames: config.labelNames,
      aggregator: 'max',
      ...(config.registers ? { registers: config.registers } : {}),
      collect() {
        maxes.collectInto(this);
      },
    });
    return new Distribution(new Histogram(config), maxes);
  }

  observe(value: number): void;
  observe(labels: LabelValues<T>, value: number): void;
  observe(labelsOrValue: LabelValues<T> | number, sample?: number): void {
    const labels: LabelValues<T> = typeof labelsOrValue === 'number' ? NO_LABELS : labelsOrValue;
    const value = typeof labelsOrValue === 'number' ? labelsOrValue : (sample ?? 0);
    this.histogram.observe(labels, value);
    this.maxes.record(labels, value);
  }

  /** Forgets every series (histogram and max). */
  reset(): void {
    this.histogram.reset();
    this.maxes.clear();
  }

  /** Starts timing; the returned function observes the seconds elapsed and returns them. */
  startTimer(labels: LabelValues<T> = NO_LABELS): () => number {
    // performance.now() is monotonic like hrtime, to the microsecond, and allocates no BigInt.
    const start = performance.now();
    return () => {
      const seconds = (performance.now() - start) / 1000;
      this.observe(labels, seconds);
      return seconds;
    };
  }
}

/**
 * The series maxima behind each `_max` gauge, one per name for the process: the registry keeps the gauge
 * (and its collect) of the first app that made it, so every later app in the process (tests build several)
 * must record into the same one.
 */
const windowMaxes = new Map<string, WindowMaxes>();
function windowMaxesOf<T extends string>(name: string, labelNames: readonly T[]): WindowMaxes<T> {
  let made = windowMaxes.get(name) as WindowMaxes<T> | undefined;
  if (!made) {
    made = new WindowMaxes(labelNames);
    windowMaxes.set(name, made);
  }
  return made;
}

/** The injection token of a distribution made by makeDistributionProviders. */
export function getDistributionToken(name: string): string {
  return `DISTRIBUTION_${name.toUpperCase()}`;
}

/** Injects the Distribution named `name` (made by makeDistributionProviders), as @InjectMetric does a metric. */
export const InjectDistribution = (name: string): ParameterDecorator & PropertyDecorator =>
  Inject(getDistributionToken(name));

/**
 * A Distribution as nestjs-prometheus providers: its histogram (makeHistogramProvider), its `_max` gauge
 * (makeGaugeProvider, collecting the series maxima) and the Distribution over both, injected with
 * @InjectDistribution(name).
 */
export function makeDistributionProviders<T extends string>(
  config: Omit<DistributionConfig<T>, 'registers'>,
): Provider[] {
  const { name, help, labelNames, buckets } = config;
  const maxes = windowMaxesOf(name, labelNames);
  return [
    makeHistogramProvider({ name, help, labelNames, buckets }),
    makeGaugeProvider({
      name: `${name}_max`,
      help: maxHelp(help),
      labelNames,
      aggregator: 'max',
      collect() {
        maxes.collectInto(this);
      },
    }),
    {
      provide: getDistributionToken(name),
      inject: [getToken(name), getToken(`${name}_max`)],
      // The `_max` gauge is injected only so that it is registered beside the histogram.
      useFactory: (histogram: Histogram<T>): Distribution<T> => new Distribution(histogram, maxes),
    },
  ];
}
