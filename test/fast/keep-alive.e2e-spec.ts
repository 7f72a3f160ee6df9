import { connect, Socket } from 'node:net';
import { RunningApp, startApp } from '../support/app';
import { eventually } from '../support/eventually';
import { exchange, parseAnswers } from '../support/raw-http';

const LIVENESS = 'GET /actuator/health/liveness HTTP/1.1\r\nHost: x\r\n\r\n';

/** A raw connection: what the server answered so far, and when it closed the connection. */
class Connection {
  readonly socket: Socket;
  private received = '';
  private closedAt?: number;

  constructor(url: string) {
    const { hostname, port } = new URL(url);
    this.socket = connect(Number(port), hostname);
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => (this.received += chunk));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closedAt = Date.now()));
  }

  /** Sends one request (or the rest of one) and waits for its whole answer: the answers here have a length. */
  async ask(request: string): Promise<string> {
    const from = this.received.length;
    this.socket.write(request);
    return eventually(
      () => {
        const answer = this.received.slice(from);
        const head = answer.indexOf('\r\n\r\n');
        const length = /content-length: (\d+)/i.exec(answer);
        if (head >= 0 && length && answer.length >= head + 4 + Number(length[1])) {
          return answer;
        }
        throw new Error(`no whole answer within 5 s: ${JSON.stringify(answer)}`);
      },
      5000,
      10,
    );
  }

  /** Milliseconds from `since` until the server closed the connection (waits at most `limitMs`). */
  async closedAfter(since: number, limitMs: number): Promise<number> {
    const closedAt = await eventually(
      () => {
        if (this.closedAt === undefined) {
          throw new Error(`the connection was still open after ${limitMs} ms`);
        }
        return this.closedAt;
      },
      limitMs,
      25,
    );
    return closedAt - since;
  }
}

describe('kept-alive connections', () => {
  const apps: RunningApp[] = [];
  const connections: Connection[] = [];
  afterAll(async () => {
    connections.forEach((connection) => connection.socket.destroy());
    await Promise.all(apps.map((app) => app.close()));
  });
  const open = async (env: Record<string, string>): Promise<Connection> => {
    const running = await startApp(env);
    apps.push(running);
    const connection = new Connection(running.url);
    connections.push(connection);
    return connection;
  };

  it('by default stay open 72 s, said in Keep-Alive: a client idle longer than 5 s can reuse one', async () => {
    const connection = await open({});
    const first = await connection.ask(LIVENESS);
    expect(first).toMatch(/^HTTP\/1\.1 200/);
    expect(first).toMatch(/\r\nkeep-alive: timeout=72\r\n/i);
    // Node's own default (5 s, checked every second) would have closed it by now.
    await new Promise((resolve) => setTimeout(resolve, 6500));
    expect(await connection.ask(LIVENESS)).toMatch(/^HTTP\/1\.1 200/);
  });

  it('closing the app does not wait out the keep-alive time of a connection busy when it began', async () => {
    const running = await startApp({});
    const connection = new Connection(running.url);
    connections.push(connection);
    // A request still arriving when the app closes: its connection is busy, not idle.
    const body = JSON.stringify({ unknown: 'field' });
    connection.socket.write(
      `POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const began = Date.now();
    const closing = running.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const answer = await connection.ask(body);
    const outcome = await Promise.race([
      closing.then(() => 'closed'),
      new Promise((resolve) => setTimeout(() => resolve('still closing after 10 s'), 10000)),
    ]);
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(outcome).toBe('closed');
    expect(await connection.closedAfter(began, 1000)).toBeLessThan(10000);
  });

  it('serve HTTP_MAX_REQUESTS_PER_SOCKET requests: the last is answered with Connection: close, and the requests pipelined behind it are not processed (RFC 9112 §9.6)', async () => {
    const running = await startApp({ HTTP_MAX_REQUESTS_PER_SOCKET: '2' });
    apps.push(running);

    const result = await exchange(running.url, LIVENESS.repeat(4));
    const answers = parseAnswers(result.text);

    expect(result.closed).toBe(true);
    // Node's own limit would answer the third with a bare 503 outside the documented error shape.
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    expect(answers[0]!.headers.connection).toBe('keep-alive');
    expect(answers[1]!.headers.connection).toBe('close');
    // A new connection is served again.
    const next = await exchange(running.url, LIVENESS.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    expect(parseAnswers(next.text).map((answer) => answer.status)).toEqual([200]);
  });

  it('are closed by the server once idle for HTTP_KEEP_ALIVE_TIMEOUT_MS', async () => {
    const connection = await open({ HTTP_KEEP_ALIVE_TIMEOUT_MS: '1000' });
    expect(await connection.ask(LIVENESS)).toMatch(/\r\nkeep-alive: timeout=1\r\n/i);
    const answeredAt = Date.now();
    const closedAfter = await connection.closedAfter(answeredAt, 10000);
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(4000);
  });
});
