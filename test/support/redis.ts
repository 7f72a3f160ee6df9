import { ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import * as localKafka from '../../scripts/kafka/local-kafka';

/** A real redis-server of the test's own: no persistence, on a free port of 127.0.0.1. */
export interface TestRedis {
  url: string;
  /** Stops the server (SIGKILL: its keys are gone, as when a store without persistence is lost). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that accepts connections but answers nothing (a slow store). */
  pause(): void;
  resume(): void;
}

/** Resolves once `PONG` comes back on a fresh connection; rejects otherwise. */
function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(500, () => socket.destroy(new Error('no answer to PING')));
    socket.once('error', reject);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      if (data.toString().startsWith('+PONG')) {
        resolve();
      } else {
        reject(new Error(`unexpected answer to PING: ${data.toString()}`));
      }
    });
  });
}

/**
 * Starts `redis-server` (Debian's package; scripts/ensure-tools.js installs it) and waits until it answers.
 * Never skips: a server that cannot be started fails the test with its output.
 */
export async function startRedis(): Promise<TestRedis> {
  const port = await localKafka.freePort();
  let child: ChildProcess | undefined;
  const killNow = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killNow);

  const launch = async (): Promise<void> => {
    let output = '';
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    started.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const spawnError = new Promise<never>((_, reject) =>
      started.once('error', (error) =>
        reject(new Error(`redis-server could not be started: ${error.message}`)),
      ),
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await Promise.race([ping(port), spawnError]);
        return;
      } catch (error) {
        if (started.exitCode !== null || Date.now() > deadline) {
          started.kill('SIGKILL');
          throw new Error(
            `redis-server did not answer on port ${port}: ${(error as Error).message}\n${output}`,
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  };
}
