import 'reflect-metadata';
import cluster from 'node:cluster';
import { Server } from 'node:http';
import { INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp } from './app.setup';
import { ShutdownGate } from './common/shutdown-gate';
import { AppConfig } from './config/app-config';
import { loadConfig } from './config/config.module';
import { createHttpAdapter } from './http/http-server';
import { serveWorkerMetrics } from './observability/cluster-metrics';
import { startTracing, stopTracing } from './observability/tracing';

/**
 * Graceful shutdown: stop accepting connections, let every in-flight request finish (each waits for its
 * broker acknowledgement), then run Nest's shutdown hooks (feedback consumer commits and leaves its group,
 * producers flush and disconnect) and exit 0. Past SHUTDOWN_TIMEOUT_MS the process exits 1.
 */
function handleSignals(app: INestApplication, timeoutMs: number): void {
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
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Connections kept alive by busy clients close after their next response (Connection: close).
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    await closed;
    clearInterval(sweeper);
    await app.close();
    await stopTracing();
    logger.log('stopped cleanly');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void stop(signal));
  }
}

async function bootstrap(config: AppConfig): Promise<void> {
  if (startTracing(config.app.name)) {
    Logger.log(`OpenTelemetry tracing on: spans exported over OTLP/HTTP`, 'Bootstrap');
  }
  const app = configureApp(
    await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(config), APP_OPTIONS),
  );
  handleSignals(app, config.shutdown.timeoutMs);
  await app.listen(config.http.port, '0.0.0.0');
  Logger.log(`${config.app.name} listening on port ${config.http.port}`, 'Bootstrap');
}

/**
 * WORKERS > 1: this process only supervises. It forks the workers (each a whole service: HTTP server on the
 * shared port, producers, feedback consumer in the shared group), replaces one that dies, sums their metrics
 * for /actuator/prometheus, and on SIGTERM/SIGINT passes the signal on, waits for every worker to drain and
 * exit, and exits 0 when all of them did (1 otherwise, or past SHUTDOWN_TIMEOUT_MS plus a second).
 */
function supervise(config: AppConfig): void {
  const logger = new Logger('Primary');
  let stopping = false;
  let failed = false;
  serveWorkerMetrics();
  const fork = (): void => void cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (code !== 0) {
      failed = true;
    }
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) {
        logger.log(`every worker stopped${failed ? ', not all cleanly' : ' cleanly'}`);
        process.exit(failed ? 1 : 0);
      }
      return;
    }
    logger.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    setTimeout(fork, 1000);
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
      setTimeout(() => process.exit(1), config.shutdown.timeoutMs + 1000).unref();
    });
  }
  for (let i = 0; i < config.http.workers; i += 1) {
    fork();
  }
  logger.log(`${config.app.name}: ${config.http.workers} workers on port ${config.http.port}`);
}

function main(): void {
  const config = loadConfig();
  if (config.http.workers > 1 && cluster.isPrimary) {
    supervise(config);
    return;
  }
  bootstrap(config).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}

try {
  main();
} catch (error) {
  // Configuration errors name the variable and the reason; print them plainly and exit non-zero.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
