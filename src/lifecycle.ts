import cluster from 'node:cluster';
import { Server } from 'node:http';
import { INestApplication, Logger } from '@nestjs/common';
import { ShutdownGate } from './common/shutdown-gate';
import { sweepIdleConnections } from './http/http-server';
import { stopTracing } from './observability/tracing';

/*
 * Shutdown, in order. This file runs steps 1–3 and 5; step 4 is Nest's shutdown hooks, in the classes named.
 *
 * On SIGTERM or SIGINT, a service process (main.ts, or each worker when WORKERS > 1):
 *   1. arms the deadline: past SHUTDOWN_TIMEOUT_MS the process exits 1, whatever is still running;
 *   2. closes the ShutdownGate: /api/** requests still arriving on kept-alive connections get
 *      503 SHUTTING_DOWN, and every response asks the client to close its connection;
 *   3. stops the HTTP server accepting connections, closes idle ones every 100 ms, and waits for every
 *      request in flight to be answered (a send is answered only once the broker acknowledged it or failed);
 *   4. app.close() runs Nest's hooks:
 *      beforeApplicationShutdown:
 *        - KafkaPublisher: sends whatever its partition queues still hold (a safety net: step 3 drained them);
 *      then the HTTP server is closed, and the hybrid app's microservice, while the producers are still up:
 *        - KafkaTransport.close() stops its ConsumerRunners (FeedbackConsumer's): kafkajs finishes the record
 *          in hand (its dead-letter write may need a producer), the runner commits it, and the consumer
 *          leaves its group;
 *      then onApplicationShutdown:
 *        - KafkaPublisher: waits for running transactions, then disconnects every producer;
 *        - TopicProvisioner: stops retrying; KafkaModule: disconnects the admin client;
 *   5. flushes the trace exporter and exits 0.
 *
 * With WORKERS > 1 the primary (which serves no HTTP) passes the signal to every worker, exits 0 once all of
 * them exited 0 (1 if one did not), or 1 past SHUTDOWN_TIMEOUT_MS plus a second.
 */

/** Steps 1–5 above for a service process, on SIGTERM or SIGINT (the second signal is ignored). */
export function shutdownOnSignal(app: INestApplication, timeoutMs: number): void {
  const logger = new Logger('Shutdown');
  let stopping = false;
  const stop = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.log(`${signal} received: draining in-flight requests (at most ${timeoutMs} ms)`);
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${timeoutMs} ms; exiting`);
      process.exit(1);
    }, timeoutMs).unref();
    app.get(ShutdownGate).close();
    const server = app.getHttpServer() as Server;
    // Connections kept alive by busy clients close after their next response (Connection: close).
    sweepIdleConnections(server);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await app.close();
    await stopTracing();
    logger.log('stopped cleanly');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void stop(signal));
  }
}

/**
 * The primary's part (WORKERS > 1): on SIGTERM or SIGINT, signal every worker and arm the deadline. Returns
 * whether shutdown has begun, so the primary stops replacing workers that exit.
 */
export function stopWorkersOnSignal(timeoutMs: number): () => boolean {
  const logger = new Logger('Primary');
  let stopping = false;
  let failed = false;
  cluster.on('exit', (_worker, code) => {
    failed ||= code !== 0;
    if (stopping && Object.keys(cluster.workers ?? {}).length === 0) {
      logger.log(`every worker stopped${failed ? ', not all cleanly' : ' cleanly'}`);
      process.exit(failed ? 1 : 0);
    }
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) {
        return;
      }
      stopping = true;
      logger.log(`${signal} received: stopping ${Object.keys(cluster.workers ?? {}).length} workers`);
      for (const worker of Object.values(cluster.workers ?? {})) {
        worker?.process.kill('SIGTERM');
      }
      setTimeout(() => process.exit(1), timeoutMs + 1000).unref();
    });
  }
  return () => stopping;
}
