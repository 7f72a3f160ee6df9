import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as localKafka from '../../scripts/kafka/local-kafka';
import * as adminServer from '../../scripts/spring-boot-admin/admin-server';

/** A first start compiles nothing (admin-server.js did that) but loads Spring: seconds, on a busy CI box more. */
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;

export interface RunningAdminServer {
  /** Where its REST API and UI answer. */
  url: string;
  /** Its own actuator (health, info, metrics): a real Spring Boot app, the control to compare with. */
  actuatorUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts the Spring Boot Admin server of scripts/spring-boot-admin (fetched and compiled on first use) on a
 * free port, with a small heap and the JIT's fast tier only, its own actuator exposed as a Spring Boot 3.5
 * app exposes it. Resolves once its REST API answers; throws, with its log's tail, if it exits or takes
 * longer than START_TIMEOUT_MS.
 */
export async function startAdminServer(): Promise<RunningAdminServer> {
  const { classpath, mainClass } = adminServer.ensureBuilt({ quiet: true });
  const port = await localKafka.freePort();
  const runDir = join(__dirname, '..', '..', '.run');
  mkdirSync(runDir, { recursive: true });
  const logFile = join(runDir, 'spring-boot-admin.log');
  const log = openSync(logFile, 'w');
  const child = spawn(
    'java',
    [
      '-Xmx128m',
      '-Xss512k',
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-cp',
      classpath,
      mainClass,
      `--server.port=${port}`,
      '--server.address=127.0.0.1',
      '--spring.main.banner-mode=off',
      '--logging.level.root=WARN',
      '--spring.thymeleaf.check-template-location=false',
      '--management.endpoints.web.exposure.include=health,info,metrics',
      '--management.endpoint.health.show-details=always',
      '--management.endpoint.health.probes.enabled=true',
    ],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (exited !== undefined) {
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await gone;
    clearTimeout(timer);
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) {
      throw new Error(`Spring Boot Admin exited (${exited}) on start:\n${tail(logFile)}`);
    }
    const up = await fetch(`${url}/instances`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(2000),
    }).then(
      (response) => response.ok,
      () => false,
    );
    if (up) {
      return { url, actuatorUrl: `${url}/actuator`, stop };
    }
    if (Date.now() >= deadline) {
      await stop();
      throw new Error(`Spring Boot Admin did not answer within ${START_TIMEOUT_MS} ms:\n${tail(logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function tail(file: string): string {
  return readFileSync(file, 'utf8').split('\n').slice(-40).join('\n');
}
