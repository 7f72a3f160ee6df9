import { connect, Socket } from 'node:net';
import { RunningApp, startApp } from '../support/app';
import { expectErrorShape } from '../support/http';
import { exchange, parseAnswers, rawRequestBytes } from '../support/raw-http';

/** Opens a connection and resolves once it is established. */
const open = (url: string): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });

/** Everything a connection receives until it closes, and whether it ended in a reset. */
const collect = (socket: Socket): Promise<{ text: string; reset: boolean }> =>
  new Promise((resolve) => {
    let text = '';
    let reset = false;
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      reset = error.code === 'ECONNRESET';
    });
    socket.on('close', () => resolve({ text, reset }));
  });

describe('connections over HTTP_MAX_CONNECTIONS are answered 503, not reset', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ HTTP_MAX_CONNECTIONS: '20', HTTP_BODY_LIMIT_BYTES: '65536' });
  });
  afterAll(async () => {
    await running.close();
  });

  it('answers each connection over the cap with 503, Retry-After and Connection: close in the error shape, then serves again once under it', async () => {
    const held = await Promise.all(Array.from({ length: 20 }, () => open(running.url)));
    try {
      const over = await Promise.all(
        Array.from({ length: 30 }, async () => {
          const socket = await open(running.url);
          const done = collect(socket);
          socket.write(rawRequestBytes('GET', '/actuator/health/liveness'));
          return done;
        }),
      );
      for (const { text, reset } of over) {
        expect(reset).toBe(false);
        const [answer] = parseAnswers(text);
        expect(answer?.status).toBe(503);
        expectErrorShape(answer!.json!, 503);
        expect(answer!.json!.code).toBe('OVERLOADED');
        expect(answer!.headers['retry-after']).toBe('1');
        expect(answer!.headers.connection).toBe('close');
      }
    } finally {
      held.forEach((socket) => socket.destroy());
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = await exchange(
      running.url,
      rawRequestBytes('GET', '/actuator/health/liveness', { connection: 'close' }),
    );
    expect(parseAnswers(again.text)[0]?.status).toBe(200);
  });

  it('a request refused before its body was read still gets its answer while the client keeps sending (half-close and drain)', async () => {
    const socket = await open(running.url);
    const done = collect(socket);
    // The body the client sends anyway, right behind the headers: megabytes the server never reads.
    socket.write(
      Buffer.concat([
        rawRequestBytes('POST', '/api/messages', {
          'content-type': 'application/json',
          'content-length': String(4 * 1024 * 1024),
        }),
        Buffer.alloc(2 * 1024 * 1024, 0x20),
      ]),
    );
    const { text, reset } = await done;

    expect(reset).toBe(false);
    const [answer] = parseAnswers(text);
    expect(answer?.status).toBe(413);
    expectErrorShape(answer!.json!, 413);
    expect(answer!.headers.connection).toBe('close');
  });
});

describe('the default cap: 2,000 connections at once all get an HTTP answer', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(async () => {
    await running.close();
  });

  it('answers every one of 2,000 simultaneous connections (the default HTTP_MAX_CONNECTIONS is 8,192)', async () => {
    const results = await Promise.all(
      Array.from({ length: 2000 }, async () => {
        const socket = await open(running.url);
        const done = collect(socket);
        socket.write(rawRequestBytes('GET', '/actuator/health/liveness', { connection: 'close' }));
        return done;
      }),
    );

    expect(results.filter((result) => result.reset)).toHaveLength(0);
    expect(
      results.map((result) => parseAnswers(result.text)[0]?.status).filter((status) => status !== 200),
    ).toEqual([]);
  });
});
