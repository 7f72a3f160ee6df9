import cluster, { Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, MetricObjectWithValues, MetricValue, register, Registry } from 'prom-client';

type WorkerMetrics = MetricObjectWithValues<MetricValue<string>>[];

const ASK = 'kafka-producer-service:metrics?';
const ANSWER = 'kafka-producer-service:metrics!';
const COLLECT = 'kafka-producer-service:collect?';
const COLLECTED = 'kafka-producer-service:collected!';
/** Longest a scrape waits for the other workers' metrics. */
const WAIT_MS = 3000;

interface Message {
  type: string;
  id: string;
  metrics?: WorkerMetrics[];
  own?: WorkerMetrics;
}

const waiting = new Map<string, (metrics: WorkerMetrics[]) => void>();

// A worker answers the primary's collection requests from start-up, whether or not it ever serves a scrape.
if (cluster.isWorker) {
  process.on('message', (message: Message) => {
    if (message?.type === COLLECT) {
      void register
        .getMetricsAsJSON()
        .then((own) => process.send?.({ type: COLLECTED, id: message.id, own }));
    } else if (message?.type === ANSWER) {
      waiting.get(message.id)?.(message.metrics ?? []);
    }
  });
}

/** Whether this process is a worker of WORKERS > 1, whose scrapes sum every worker's metrics. */
export function aggregatesWorkers(): boolean {
  return cluster.isWorker && process.send !== undefined;
}

/**
 * The registry /actuator/prometheus and /actuator/metrics read: in a single process the global one; in a
 * worker of WORKERS > 1, every worker's metrics summed by prom-client's AggregatorRegistry (counters and
 * histograms add up; see prom-client for each default metric's rule), collected through the primary.
 */
export async function metricsRegistry(): Promise<Registry> {
  if (!aggregatesWorkers()) {
    return register;
  }
  const id = randomUUID();
  const all = await new Promise<WorkerMetrics[]>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`the other workers' metrics did not arrive within ${WAIT_MS} ms`));
    }, WAIT_MS);
    waiting.set(id, (metrics) => {
      clearTimeout(timer);
      waiting.delete(id);
      resolve(metrics);
    });
    process.send?.({ type: ASK, id });
  });
  return AggregatorRegistry.aggregate(all);
}

/** In the primary: answers a worker's request by collecting every live worker's metrics. */
export function serveWorkerMetrics(): void {
  const pending = new Map<
    string,
    { expected: number; metrics: WorkerMetrics[]; reply: (m: WorkerMetrics[]) => void }
  >();
  cluster.on('message', (worker: Worker, message: Message) => {
    if (message?.type === ASK) {
      const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
      const id = randomUUID();
      const entry = {
        expected: workers.length,
        metrics: [] as WorkerMetrics[],
        reply: (metrics: WorkerMetrics[]) =>
          worker.isConnected() && worker.send({ type: ANSWER, id: message.id, metrics }),
      };
      pending.set(id, entry);
      // Whatever arrived by then, rather than nothing, if a worker is stuck.
      setTimeout(() => {
        if (pending.delete(id)) {
          entry.reply(entry.metrics);
        }
      }, WAIT_MS - 500).unref();
      for (const w of workers) {
        w.send({ type: COLLECT, id });
      }
    } else if (message?.type === COLLECTED && message.own) {
      const entry = pending.get(message.id);
      if (entry) {
        entry.metrics.push(message.own);
        if (entry.metrics.length >= entry.expected) {
          pending.delete(message.id);
          entry.reply(entry.metrics);
        }
      }
    }
  });
}
