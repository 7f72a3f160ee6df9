import 'reflect-metadata';
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
    logger.log('stopped cleanly');
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void stop(signal));
  }
}

async function bootstrap(): Promise<void> {
  const app = configureApp(
    await NestFactory.create<NestFastifyApplication>(AppModule, createHttpAdapter(loadConfig()), APP_OPTIONS),
  );
  const config = app.get(AppConfig);
  handleSignals(app, config.shutdown.timeoutMs);
  await app.listen(config.http.port, '0.0.0.0');
  Logger.log(`${config.app.name} listening on port ${config.http.port}`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  // Configuration errors name the variable and the reason; print them plainly and exit non-zero.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
