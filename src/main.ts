import 'reflect-metadata';
import cluster from 'node:cluster';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp, startServing } from './app.setup';
import { AppConfig } from './config/app-config';
import { loadConfig } from './config/config.module';
import { createHttpAdapter } from './http/http-server';
import { shutdownOnSignal, stopWorkersOnSignal } from './lifecycle';
import { serveWorkerMetrics } from './observability/cluster-metrics';
import { startTracing } from './observability/tracing';

async function bootstrap(config: AppConfig): Promise<void> {
  if (await startTracing(config.app.name)) {
    Logger.log(`OpenTelemetry tracing on: spans exported over OTLP/HTTP`, 'Bootstrap');
  }
  const app = configureApp(
    await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(config), APP_OPTIONS),
  );
  shutdownOnSignal(app, config.shutdown.timeoutMs);
  await startServing(app, config.http.port, '0.0.0.0');
  Logger.log(`${config.app.name} listening on port ${config.http.port}`, 'Bootstrap');
}

/**
 * WORKERS > 1: this process only supervises. It forks the workers (each a whole service: HTTP server on the
 * shared port, producers, feedback consumer in the shared group), replaces one that dies, sums their metrics
 * for /actuator/prometheus, and on SIGTERM/SIGINT stops them (src/lifecycle.ts).
 */
function supervise(config: AppConfig): void {
  const logger = new Logger('Primary');
  serveWorkerMetrics();
  const stopping = stopWorkersOnSignal(config.shutdown.timeoutMs);
  const fork = (): void => void cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping()) {
      logger.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
      setTimeout(fork, 1000);
    }
  });
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
