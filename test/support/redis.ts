import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import * as localKafka from '../../scripts/kafka/local-kafka';
import { certificates } from './secure-broker';

/** A real redis-server of the test's own: no persistence, on a free port of 127.0.0.1. */
export interface TestRedis {
  /** With the user's name and password, and rediss:// when TLS is on. */
  url: string;
  /** The CA file that signed the server's certificate (TLS only). */
  caFile?: string;
  /** Stops the server (SIGKILL: its keys are gone, as when a store without persistence is lost). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that accepts connections but answers nothing (a slow store). */
  pause(): void;
  resume(): void;
}

/** Resolves once the server answers PING on a fresh connection (PONG, or NOAUTH with a user); rejects otherwise. */
function ping(port: number, ca?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = ca
      ? connectTls({ host: '127.0.0.1', port, ca }, () => socket.write('PING\r\n'))
      : connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.setTimeout(500, () => socket.destroy(new Error('no answer to PING')));
    socket.once('error', reject);
    socket.once('data', (data) => {
      socket.destroy();
      if (/^(\+PONG|-NOAUTH)/.test(data.toString())) {
        resolve();
      } else {
        reject(new Error(`unexpected answer to PING: ${data.toString()}`));
      }
    });
  });
}

/**
 * Starts `redis-server` (Debian's package; scripts/ensure-tools.js installs it) and waits until it answers.
 * Never skips: a server that cannot be started fails the test with its output. `tls` serves TLS only (a
 * throwaway CA); `user` replaces the passwordless default user with an ACL user.
 */
export async function startRedis(
  options: { tls?: boolean; user?: { name: string; password: string } } = {},
): Promise<TestRedis> {
  const port = await localKafka.freePort();
  const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  let caFile: string | undefined;
  if (options.tls) {
    const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
    caFile = certificates(dir).caFile;
    args.push('--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no');
    args.push('--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key'));
    args.push('--tls-ca-cert-file', caFile);
  } else {
    args.push('--port', String(port));
  }
  if (options.user) {
    args.push('--user', options.user.name, 'on', `>${options.user.password}`, '~*', '+@all');
    args.push('--user', 'default', 'off');
  }
  const ca = caFile && readFileSync(caFile, 'utf8');
  let child: ChildProcess | undefined;
  const killNow = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', killNow);

  const launch = async (): Promise<void> => {
    let output = '';
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
        await Promise.race([ping(port, ca), spawnError]);
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
  const credentials = options.user
    ? `${options.user.name}:${encodeURIComponent(options.user.password)}@`
    : '';
  return {
    url: `${options.tls ? 'rediss' : 'redis'}://${credentials}127.0.0.1:${port}`,
    caFile,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
  };
}
