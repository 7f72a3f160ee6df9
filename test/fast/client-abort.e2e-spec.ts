import { gzipSync } from 'node:zlib';
import { RunningApp, startAppCapturingLogs } from '../support/app';
import { exchange } from '../support/raw-http';

/**
 * A client that goes away before its request is complete is no server error: nobody is left to answer, so
 * the request is logged as a client abort (info, no stack trace) and counted with status 499, the status
 * nginx logs for "client closed request".
 */
describe('a client that aborts mid-body is a client abort, not a 500', () => {
  let lines: Record<string, unknown>[] = [];
  let running: RunningApp;

  beforeAll(async () => {
    ({ running, lines } = await startAppCapturingLogs({ LOG_LEVEL: 'debug', LOG_FORMAT: 'json' }));
  });
  afterAll(async () => {
    await running.close();
  });

  const requestsCounted = async (status: string): Promise<number> => {
    const text = await (await fetch(`${running.url}/actuator/prometheus`)).text();
    const pattern = new RegExp(
      `^http_server_requests_seconds_count\\{[^}]*uri="/api/messages"[^}]*status="${status}"[^}]*\\} (\\d+)$`,
      'm',
    );
    return Number(pattern.exec(text)?.[1] ?? 0);
  };

  it('Content-Length 100, 10 bytes sent, connection closed: logged at info as a client abort, counted as 499', async () => {
    lines.length = 0;
    const before = await requestsCounted('499');
    await exchange(
      running.url,
      'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Request-Id: abort-1\r\n' +
        'Content-Length: 100\r\n\r\n{"content"',
      { waitMs: 200 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    const about = lines.filter((line) => line.requestId === 'abort-1');
    expect(about).toContainEqual(
      expect.objectContaining({ level: 30, msg: expect.stringMatching(/client closed the connection/) }),
    );
    expect(about.filter((line) => (line.level as number) >= 50)).toEqual([]);
    expect(JSON.stringify(about)).not.toMatch(/-> 500|stack/);
    expect(await requestsCounted('499')).toBe(before + 1);
    expect(await requestsCounted('500')).toBe(0);
  });

  it('the same for a compressed body: an abort mid-gzip is a client abort, not invalid gzip data', async () => {
    const before = await requestsCounted('499');
    const gzipped = gzipSync(Buffer.from(JSON.stringify({ content: 'x'.repeat(5000) })));
    await exchange(
      running.url,
      Buffer.concat([
        Buffer.from(
          'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n' +
            `X-Request-Id: abort-2\r\nContent-Length: ${gzipped.length}\r\n\r\n`,
        ),
        gzipped.subarray(0, 10),
      ]),
      { waitMs: 200 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(lines.filter((line) => line.requestId === 'abort-2' && (line.level as number) >= 50)).toEqual([]);
    expect(JSON.stringify(lines.filter((line) => line.requestId === 'abort-2'))).not.toMatch(
      /not valid gzip/,
    );
    expect(await requestsCounted('499')).toBe(before + 1);
  });
});
