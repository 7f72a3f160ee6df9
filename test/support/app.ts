import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as localKafka from '../../scripts/kafka/local-kafka';
import { V8_FLAGS } from '../../scripts/node-flags';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test, TestingModuleBuilder } from '@nestjs/testing';
import { Admin, Kafka, logLevel } from 'kafkajs';
import { AppModule } from '../../src/app.module';
import { configureApp, startServing } from '../../src/app.setup';
import { loadConfig } from '../../src/config/config.module';
import { createHttpAdapter } from '../../src/http/http-server';
import { LOG_DESTINATION } from '../../src/observability/logging';

export interface RunningApp {
  app: NestFastifyApplication;
  url: string;
  close(): Promise<void>;
}

/**
 * Boots the whole service (AppModule, as main.ts does) on a free port, with extra environment variables
 * set only while its configuration is read. `customize` may override providers at the boundary.
 */
export async function startApp(
  env: Record<string, string> = {},
  customize?: (builder: TestingModuleBuilder) => TestingModuleBuilder,
): Promise<RunningApp> {
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    let builder = Test.createTestingModule({ imports: [AppModule] });
    if (customize) {
      builder = customize(builder);
    }
    const moduleRef = await builder.compile();
    const app = configureApp(
      moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(loadConfig()), {
        bodyParser: false,
        logger: ['error', 'warn'],
      }),
    );
    await startServing(app, 0, '127.0.0.1');
    const url = await app.getUrl();
    return { app, url: url.replace('[::1]', '127.0.0.1'), close: () => app.close() };
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) {
        delete process.env[key];
      } else {
        process.env[key] = value;
      }
    }
  }
}

/** A unique topic name, so test files never see each other's records. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * A 3-partition topic whose broker refuses record batches over 16 KiB (`max.message.bytes`), room for a
 * 10-message batch. The service's own limit is higher, so a big record reaches the broker and fails there,
 * part way through a transaction.
 */
export async function createSmallBatchTopic(admin: Admin, topic: string): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'max.message.bytes', value: '16384' }] }],
  });
}

/** An admin client of the test's own (not the app's), for checks and set-up. */
export async function testAdmin(): Promise<Admin> {
  const admin = new Kafka({
    clientId: 'e2e-test-admin',
    brokers: (process.env.KAFKA_BROKERS ?? '').split(','),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  return admin;
}

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  /** Resolves with the exit code and when it came. */
  exited: Promise<{ code: number | null; at: number }>;
}

/** The built service (dist/main.js, as `npm start` runs it) as its own process on a free port. */
export async function spawnService(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await localKafka.freePort();
  const child = spawn(process.execPath, [...V8_FLAGS, join(__dirname, '..', '..', 'dist', 'main.js')], {
    env: { ...process.env, PORT: String(port), NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, url: `http://127.0.0.1:${port}`, exited };
}

/**
 * The service (as startApp boots it) with its JSON log lines captured: `lines` holds every line written,
 * parsed, in order.
 */
export async function startAppCapturingLogs(
  env: Record<string, string>,
): Promise<{ running: RunningApp; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _encoding, done): void {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const running = await startApp({ LOG_FORMAT: 'json', ...env }, (builder) =>
    builder.overrideProvider(LOG_DESTINATION).useValue(capture),
  );
  return { running, lines };
}
