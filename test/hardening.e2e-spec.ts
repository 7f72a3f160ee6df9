import { request as httpRequest } from 'node:http';
import { connect, Socket } from 'node:net';
import * as fc from 'fast-check';
import { Admin } from 'kafkajs';
import { registeredRoutes } from '../src/http/http-server';
import { RunningApp, startApp, testAdmin, uniqueTopic } from './support/app';
import { eventually } from './support/eventually';
import { expectErrorShape } from './support/http';
import { exchange, parseAnswers } from './support/raw-http';

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One request with the path sent byte for byte as given (fetch would normalize it). */
function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: hostname, port, method, path, headers: { connection: 'close', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            parsed = { text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A POST of a JSON text, sent as it is. */
const postJson = (base: string, path: string, body: string): Promise<RawAnswer> =>
  rawRequest(base, 'POST', path, { 'content-type': 'application/json' }, body);

/** Writes raw bytes on a fresh connection; resolves with what came back and when the server closed it. */
const rawExchange = (
  base: string,
  bytes: string | Buffer,
  waitMs = 5000,
): Promise<{ text: string; closed: boolean; ms: number }> => exchange(base, bytes, { waitMs });

/** The status and JSON body of the first answer on a connection. */
function parseAnswer(text: string): { status: number; body: Record<string, unknown> } {
  const [answer] = parseAnswers(text);
  return { status: answer?.status ?? 0, body: answer?.json ?? {} };
}

/**
 * Every spelling of a route path a client might try: case changes, percent-encoded letters, doubled and
 * trailing slashes, a query string. Fastify's router is case-sensitive and exact, so most of these are
 * 404; the property below does not rely on that: it compares with what the same spelling gets with a key.
 */
function spellings(path: string): string[] {
  const letters = [...path].map((c, i) => ({ c, i })).filter(({ c }) => /[a-z]/.test(c));
  const encodeAt = (i: number): string =>
    path.slice(0, i) + `%${path.charCodeAt(i).toString(16).toUpperCase()}` + path.slice(i + 1);
  const variants = new Set<string>([
    path,
    path.toUpperCase(),
    path.replace(/\/(\w)/g, (_m, c: string) => `/${c.toUpperCase()}`),
    `${path}/`,
    `/${path}`,
    path.replace(/\//g, '//'),
    path.replace(/\/([^/]*)$/, '//$1'),
    `${path}?`,
    `${path}?x=1`,
    `${path}#x`,
    `${path}%2F`,
    path.replace(/\//g, '%2F'),
    `${path}/.`,
    path.replace(/\/([^/]+)$/, '/./$1'),
    `${path};x=1`,
    ...letters.map(({ i }) => encodeAt(i)),
    letters.length > 0 ? encodeAt(letters[letters.length - 1]!.i).toLowerCase() : path,
  ]);
  return [...variants];
}

const API_KEY = 'hardening-key';

describe('hardening: authentication is bound to the route the router dispatches to', () => {
  let running: RunningApp;
  let admin: Admin;
  const topic = uniqueTopic('hardening-auth');

  beforeAll(async () => {
    running = await startApp({ API_KEYS: API_KEY, ACTUATOR_REQUIRE_API_KEY: 'true', KAFKA_TOPIC: topic });
    admin = await testAdmin();
  });
  afterAll(async () => {
    await admin?.disconnect();
    await running?.close();
  });

  it('needs a key for every spelling of every protected route the app registers, and publishes nothing without one', async () => {
    // Params are filled with a plausible value; the docs' wildcard with a file name.
    const routes = registeredRoutes(running.app).map((route) => ({
      ...route,
      concrete: route.path.replace(/:\w+/g, 'http.server.requests').replace('*', 'index.html'),
    }));
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['POST /api/messages', 'GET /actuator/prometheus', 'HEAD /actuator/info']),
    );
    const methods = (method: string): string[] => [
      ...new Set([method, method === 'GET' ? 'HEAD' : method, 'OPTIONS']),
    ];
    const unprotected: string[] = [];
    let tried = 0;
    for (const route of routes) {
      const open = /^\/(actuator\/health|api\/docs)/.test(route.path);
      for (const path of spellings(route.concrete)) {
        for (const method of methods(route.method)) {
          tried += 1;
          const body = method === 'POST' ? '{"content":"auth probe"}' : undefined;
          const json: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
          const without = await rawRequest(running.url, method, path, json, body).catch((error: Error) => {
            throw new Error(`${method} ${path}: ${error.message}`);
          });
          expect(without.status).toBeLessThan(500);
          if (open) {
            continue;
          }
          // A spelling refused without a key must be a 401; any other answer must be the same with a key
          // (a 404, a 400 for a malformed URL): the key changes nothing, so no protected handler was reached.
          if (without.status !== 401) {
            const withKey = await rawRequest(
              running.url,
              method,
              path,
              { ...json, 'x-api-key': API_KEY },
              body,
            );
            if (withKey.status !== without.status) {
              unprotected.push(
                `${method} ${path} -> ${without.status} without a key, ${withKey.status} with one`,
              );
            }
          }
          if (without.status === 401 && method !== 'HEAD') {
            expectErrorShape(without.body, 401);
          }
        }
      }
    }
    expect(unprotected).toEqual([]);
    expect(tried).toBeGreaterThan(300);

    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.map((o) => o.high)).toEqual(offsets.map(() => '0'));
  });

  it('keeps health open and reaches a protected handler through an encoded spelling only with a key', async () => {
    expect((await rawRequest(running.url, 'GET', '/actuator/health/liveness')).status).toBe(200);
    expect((await rawRequest(running.url, 'GET', '/actuator/%70rometheus')).status).toBe(401);
    expect(
      (await rawRequest(running.url, 'GET', '/actuator/%70rometheus', { 'x-api-key': API_KEY })).status,
    ).toBe(200);
  });
});

describe('hardening: every bad request gets a 4xx in the error shape, fast, with nothing published', () => {
  let running: RunningApp;
  let admin: Admin;
  const topic = uniqueTopic('hardening-input');

  beforeAll(async () => {
    running = await startApp({
      KAFKA_TOPIC: topic,
      HTTP_BODY_LIMIT_BYTES: '65536',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_REQUEST_TIMEOUT_MS: '3000',
      HTTP_MAX_HEADER_BYTES: '8192',
    });
    admin = await testAdmin();
  });
  afterAll(async () => {
    await admin?.disconnect();
    await running?.close();
  });

  const expectNothingPublished = async (): Promise<void> => {
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.map((o) => o.high)).toEqual(offsets.map(() => '0'));
  };

  it('property: nesting of any depth, in the body or in metadata, on every send route, is a 400', async () => {
    const nest = (depth: number, kind: 'array' | 'object'): string =>
      kind === 'array'
        ? '['.repeat(depth) + ']'.repeat(depth)
        : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api/messages', '/api/messages/batch'),
        fc.constantFrom('body', 'metadata', 'batch-item'),
        fc.constantFrom<'array' | 'object'>('array', 'object'),
        fc.oneof(fc.integer({ min: 33, max: 200 }), fc.integer({ min: 200, max: 10000 })),
        async (path, where, kind, depth) => {
          const deep = nest(depth, kind);
          const body =
            where === 'body'
              ? deep
              : where === 'metadata'
                ? `{"content":"x","metadata":${deep}}`
                : `[{"content":"x","metadata":${deep}}]`;
          const answer = await postJson(running.url, path, body);
          expect(answer.status).toBe(400);
          expectErrorShape(answer.body, 400);
        },
      ),
      { numRuns: 60 },
    );
    await expectNothingPublished();
  });

  it('prototype keys anywhere are unknown fields: 400 naming them, never silently dropped', async () => {
    const cases: { path: string; body: string; field: string }[] = [];
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      cases.push(
        { path: '/api/messages', body: `{"content":"x","${key}":{"polluted":"yes"}}`, field: key },
        {
          path: '/api/messages',
          body: `{"content":"x","metadata":{"${key}":"x"}}`,
          field: `metadata.${key}`,
        },
        { path: '/api/messages', body: `{"content":"x","${key}":"x"}`, field: key },
        { path: '/api/messages/batch', body: `[{"content":"x","${key}":{}}]`, field: `[0].${key}` },
        {
          path: '/api/messages/batch',
          body: `[{"content":"x","metadata":{"${key}":"x"}}]`,
          field: `[0].metadata.${key}`,
        },
      );
    }
    for (const { path, body, field } of cases) {
      const answer = await postJson(running.url, path, body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expectErrorShape(answer.body, 400);
      expect(answer.body.details).toEqual([{ field, reason: expect.stringMatching(/should not exist/) }]);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await expectNothingPublished();
  });

  it('a declared length over the limit is refused at once (413) and the connection closed', async () => {
    const result = await rawExchange(
      running.url,
      'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 104857600\r\n\r\n{"content":"a"}',
    );
    expect(result.closed).toBe(true);
    expect(result.ms).toBeLessThan(2000);
    const { status, body } = parseAnswer(result.text);
    expect(status).toBe(413);
    expectErrorShape(body, 413);
    expect(body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('a truncated body is answered within HTTP_REQUEST_TIMEOUT_MS (408) and the connection closed', async () => {
    const result = await rawExchange(
      running.url,
      'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 50\r\n\r\n{"content":"a"}',
      8000,
    );
    expect(result.closed).toBe(true);
    expect(result.ms).toBeLessThan(5500);
    const { status, body } = parseAnswer(result.text);
    expect(status).toBe(408);
    expectErrorShape(body, 408);
  });

  it("requests Node's parser refuses get the error shape, are counted, and close the connection", async () => {
    const cases: { name: string; bytes: string; status: number }[] = [
      {
        name: 'duplicate Content-Length',
        bytes:
          'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
        status: 400,
      },
      {
        name: 'Content-Length with Transfer-Encoding',
        bytes:
          'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello',
        status: 400,
      },
      { name: 'not HTTP at all', bytes: 'HELLO THERE\r\n\r\n', status: 400 },
      {
        name: 'bad chunk size',
        bytes:
          'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Transfer-Encoding: chunked\r\n\r\nZZ\r\n',
        status: 400,
      },
      {
        name: 'space in header name',
        bytes: 'GET / HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n',
        status: 400,
      },
      {
        name: 'a 64 KB URL',
        bytes: `GET /api/${'a'.repeat(65536)} HTTP/1.1\r\nHost: x\r\n\r\n`,
        status: 431,
      },
      {
        name: 'an oversized header',
        bytes: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`,
        status: 431,
      },
    ];
    for (const { name, bytes, status } of cases) {
      const result = await rawExchange(running.url, bytes);
      expect({ name, closed: result.closed }).toEqual({ name, closed: true });
      const answer = parseAnswer(result.text);
      expect({ name, status: answer.status }).toEqual({ name, status });
      expectErrorShape(answer.body, status);
    }
    const metrics = await (await fetch(`${running.url}/actuator/prometheus`)).text();
    expect(metrics).toMatch(/http_server_client_errors_total\{status="400",code="MALFORMED_REQUEST"\} [1-9]/);
    expect(metrics).toMatch(/http_server_client_errors_total\{status="431",code="HEADERS_TOO_LARGE"\} [1-9]/);
  });

  it('property: arbitrary bytes after a request line never get a 5xx or a non-JSON error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('POST /api/messages HTTP/1.1\r\n', 'GET /actuator/health HTTP/1.1\r\n', ''),
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        async (start, bytes) => {
          const result = await rawExchange(
            running.url,
            Buffer.concat([Buffer.from(start), Buffer.from(bytes), Buffer.from('\r\n\r\n')]),
            4000,
          );
          if (result.text === '') {
            return; // a request still waiting for its headers: the headers timeout closes it (below)
          }
          const { status, body } = parseAnswer(result.text);
          expect(status).toBeGreaterThanOrEqual(200);
          expect(status).toBeLessThan(500);
          if (status >= 400) {
            expectErrorShape(body, status);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('10,000 query parameters are a 400 (or a 431 past the header limit), never a 5xx', async () => {
    const many = Array.from({ length: 10000 }, (_, i) => `p${i}=1`).join('&');
    const short = Array.from({ length: 100 }, (_, i) => `p${i}=1`).join('&');
    const big = await rawRequest(running.url, 'POST', `/api/messages/simple?content=x&${many}`);
    expect([400, 431]).toContain(big.status);
    const small = await rawRequest(running.url, 'POST', `/api/messages/simple?content=x&${short}`);
    expect(small.status).toBe(400);
    expectErrorShape(small.body, 400);
    expect(small.body.message).toMatch(/query parameters/);
    await expectNothingPublished();
  });

  it('slow clients are cut off: connections dribbling headers are closed after HTTP_HEADERS_TIMEOUT_MS', async () => {
    const sockets: Socket[] = [];
    const closedAt: number[] = [];
    const started = Date.now();
    const { hostname, port } = new URL(running.url);
    for (let i = 0; i < 200; i += 1) {
      const socket = connect(Number(port), hostname);
      socket.on('error', () => undefined);
      socket.on('close', () => closedAt.push(Date.now() - started));
      socket.write('POST /api/messages HTTP/1.1\r\nHost: x\r\n');
      sockets.push(socket);
    }
    const dribble = setInterval(() => {
      for (const socket of sockets) {
        if (!socket.destroyed) {
          socket.write('X');
        }
      }
    }, 500);
    try {
      await eventually(() => expect(closedAt).toHaveLength(sockets.length), 10000);
    } finally {
      clearInterval(dribble);
      sockets.forEach((socket) => socket.destroy());
    }
    expect(closedAt).toHaveLength(200);
    // 2 s headers timeout, checked every second by Node.
    expect(Math.max(...closedAt)).toBeLessThan(6000);
    // The service still answers.
    expect((await rawRequest(running.url, 'GET', '/actuator/health/liveness')).status).toBe(200);
  });
});

describe('hardening: every request is answered within SEND_TIMEOUT_MS whatever Kafka does', () => {
  it('SASL configured against a plaintext broker: 503 within the bound, in the error shape', async () => {
    const running = await startApp({
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'nobody',
      KAFKA_SASL_PASSWORD: 'nothing',
      SEND_TIMEOUT_MS: '2000',
      KAFKA_CONNECTION_TIMEOUT_MS: '1000',
      FEEDBACK_CONSUMER_ENABLED: 'false',
      KAFKA_TOPIC: uniqueTopic('hardening-sasl'),
    });
    try {
      const answers = await Promise.all(
        Array.from({ length: 5 }, async () => {
          const started = Date.now();
          const answer = await postJson(running.url, '/api/messages', '{"content":"x"}');
          return { ...answer, ms: Date.now() - started };
        }),
      );
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expectErrorShape(answer.body, 503);
        expect(['KAFKA_UNAVAILABLE', 'KAFKA_AUTHENTICATION_FAILED']).toContain(answer.body.code);
        expect(answer.ms).toBeLessThan(2000 + 1000);
      }
    } finally {
      await running.close();
    }
  });
});
