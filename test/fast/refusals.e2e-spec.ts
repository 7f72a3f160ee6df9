import { errorCodes } from 'fastify';
import { RunningApp, startApp } from '../support/app';
import { expectErrorShape } from '../support/http';
import { exchange, parseAnswers, rawRequestBytes, WireAnswer } from '../support/raw-http';

/*
 * Every refusal Fastify or Node makes reaches the client in the documented error shape, with its
 * X-Request-Id where there is a request. The codes are enumerated from what can reach a client: each is
 * provoked here, or listed as unreachable with the reason, so a new code in an upgrade fails this file.
 */

/** Requests that provoke each Fastify error code a client can cause, and the answer's status and code. */
const FASTIFY_TRIGGERS: Record<string, { bytes: Buffer; status: number; code: string }> = {
  FST_ERR_NOT_FOUND: { bytes: rawRequestBytes('GET', '/nothing-here'), status: 404, code: 'NOT_FOUND' },
  FST_ERR_BAD_URL: { bytes: rawRequestBytes('GET', '/api/%E0%A4%A'), status: 400, code: 'MALFORMED_REQUEST' },
  FST_ERR_MAX_PARAM_LENGTH: {
    bytes: rawRequestBytes('GET', `/actuator/metrics/${'m'.repeat(300)}`),
    status: 414,
    code: 'URI_TOO_LONG',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: {
    bytes: rawRequestBytes('POST', '/api/messages', {
      'content-type': 'application/json',
      'content-length': '104857600',
    }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    bytes: rawRequestBytes('POST', '/api/messages', { 'content-type': '/;;' }, '{"content":"x"}'),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
};

/** Fastify error codes with a client status that this service's set-up never raises, and why. */
const FASTIFY_UNREACHABLE: Record<string, string> = {
  FST_ERR_VALIDATION: 'no route declares a Fastify schema (DTOs are validated by the global pipe)',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH:
    "Node's parser ends a body only after Content-Length bytes; a shorter one is a timeout (408) or an abort",
  FST_ERR_CTP_EMPTY_JSON_BODY: "Fastify's JSON parser is replaced (json-body.ts)",
  FST_ERR_CTP_INVALID_JSON_BODY: "Fastify's JSON parser is replaced (json-body.ts)",
  FST_ERR_CTP_INSTANCE_ALREADY_STARTED: 'raised at set-up, never for a request',
  FST_ERR_INVALID_URL: 'raised by inject() for a non-string URL, never for a request on the wire',
  FST_ERR_HANDLER_TIMEOUT: 'no route sets handlerTimeout (SEND_TIMEOUT_MS bounds sends)',
  FST_ERR_ROUTE_MISSING_CONTENT_TYPE: 'QUERY requests only, and no route accepts QUERY (405)',
  FST_ERR_ROUTE_MISSING_CONTENT: 'raised by route options this service does not use',
};

/** Bytes that make Node's HTTP parser (llhttp) raise each code a client can cause. */
const NODE_TRIGGERS: Record<string, string> = {
  HPE_INVALID_METHOD: 'G\x01T / HTTP/1.1\r\nHost: x\r\n\r\n',
  HPE_INVALID_URL: 'GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n',
  HPE_INVALID_VERSION: 'GET / HTTP/9.1\r\nHost: x\r\n\r\n',
  HPE_INVALID_CONSTANT: 'GET / HTTX/1.1\r\nHost: x\r\n\r\n',
  HPE_INVALID_HEADER_TOKEN: 'GET / HTTP/1.1\r\nBad Header: x\r\n\r\n',
  HPE_INVALID_CONTENT_LENGTH: 'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
  HPE_UNEXPECTED_CONTENT_LENGTH:
    'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
  HPE_INVALID_TRANSFER_ENCODING:
    'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello',
  HPE_INVALID_CHUNK_SIZE:
    'POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: `POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5;${'a'.repeat(20000)}\r\n`,
  HPE_STRICT: 'GET / HTTP/1.1\rHost: x\r\n\r\n',
  HPE_CR_EXPECTED: 'GET / HTTP/1.1\r\nHost: x\n\r\n',
  HPE_LF_EXPECTED: 'GET / HTTP/1.1\r\nHost: x\r\r\n',
  HPE_UNEXPECTED_SPACE: 'GET / HTTP/1.1\r\n Host: x\r\n\r\n',
  HPE_PAUSED_H2_UPGRADE: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  HPE_HEADER_OVERFLOW: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`,
};

/** llhttp error codes (llhttp_errno_t, plus Node's two overflow codes) no client request can get an answer to. */
const NODE_UNREACHABLE: Record<string, string> = {
  HPE_OK: 'not an error',
  HPE_INTERNAL: 'a parser bug',
  HPE_CLOSED_CONNECTION: 'bytes after a request that closes the connection: not read (RFC 9112 §9.6)',
  HPE_INVALID_STATUS: 'raised for responses only',
  HPE_INVALID_EOF_STATE: 'the client closed the connection mid-request: nobody to answer',
  HPE_PAUSED: 'Node pauses the parser itself',
  HPE_PAUSED_UPGRADE:
    'an Upgrade request is served as a plain request (the server has no upgrade handler): below',
  HPE_USER: 'raised by parser callbacks Node does not use',
  HPE_CB_MESSAGE_BEGIN: 'a callback error: Node callbacks do not fail',
  HPE_CB_HEADERS_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_MESSAGE_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_CHUNK_HEADER: 'a callback error: Node callbacks do not fail',
  HPE_CB_CHUNK_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_URL_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_STATUS_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_METHOD_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_VERSION_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_HEADER_FIELD_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_HEADER_VALUE_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_CHUNK_EXTENSION_NAME_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_CHUNK_EXTENSION_VALUE_COMPLETE: 'a callback error: Node callbacks do not fail',
  HPE_CB_RESET: 'a callback error: Node callbacks do not fail',
  HPE_CB_PROTOCOL_COMPLETE: 'a callback error: Node callbacks do not fail',
};

/** llhttp_errno_t in Node's bundled llhttp (deps/llhttp/include/llhttp.h), plus Node's overflow codes. */
const LLHTTP_ERRORS = [
  'HPE_OK',
  'HPE_INTERNAL',
  'HPE_STRICT',
  'HPE_CR_EXPECTED',
  'HPE_LF_EXPECTED',
  'HPE_UNEXPECTED_CONTENT_LENGTH',
  'HPE_UNEXPECTED_SPACE',
  'HPE_CLOSED_CONNECTION',
  'HPE_INVALID_METHOD',
  'HPE_INVALID_URL',
  'HPE_INVALID_CONSTANT',
  'HPE_INVALID_VERSION',
  'HPE_INVALID_HEADER_TOKEN',
  'HPE_INVALID_CONTENT_LENGTH',
  'HPE_INVALID_CHUNK_SIZE',
  'HPE_INVALID_STATUS',
  'HPE_INVALID_EOF_STATE',
  'HPE_INVALID_TRANSFER_ENCODING',
  'HPE_CB_MESSAGE_BEGIN',
  'HPE_CB_HEADERS_COMPLETE',
  'HPE_CB_MESSAGE_COMPLETE',
  'HPE_CB_CHUNK_HEADER',
  'HPE_CB_CHUNK_COMPLETE',
  'HPE_PAUSED',
  'HPE_PAUSED_UPGRADE',
  'HPE_PAUSED_H2_UPGRADE',
  'HPE_USER',
  'HPE_CB_URL_COMPLETE',
  'HPE_CB_STATUS_COMPLETE',
  'HPE_CB_METHOD_COMPLETE',
  'HPE_CB_VERSION_COMPLETE',
  'HPE_CB_HEADER_FIELD_COMPLETE',
  'HPE_CB_HEADER_VALUE_COMPLETE',
  'HPE_CB_CHUNK_EXTENSION_NAME_COMPLETE',
  'HPE_CB_CHUNK_EXTENSION_VALUE_COMPLETE',
  'HPE_CB_RESET',
  'HPE_CB_PROTOCOL_COMPLETE',
  'HPE_HEADER_OVERFLOW',
  'HPE_CHUNK_EXTENSIONS_OVERFLOW',
];

/** Fastify's error codes whose status is a client's (4xx) or a refusal's (not the 500 of a set-up error). */
const fastifyRequestCodes = (): string[] =>
  Object.entries(errorCodes)
    .filter(([, ErrorClass]) => new (ErrorClass as new () => { statusCode?: number })().statusCode !== 500)
    .map(([code]) => code);

describe('every refusal Fastify or Node makes is in the documented error shape', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp();
  });
  afterAll(async () => {
    await running.close();
  });

  const answerTo = async (bytes: Buffer | string, waitMs = 5000): Promise<WireAnswer> => {
    const result = await exchange(running.url, Buffer.from(bytes as string, 'latin1'), { waitMs });
    const [answer] = parseAnswers(result.text);
    expect(answer).toBeDefined();
    return answer!;
  };

  it('enumerates every Fastify error code with a request status: each is provoked below or stated unreachable', () => {
    const listed = [...Object.keys(FASTIFY_TRIGGERS), ...Object.keys(FASTIFY_UNREACHABLE)].sort();
    expect(listed).toEqual(fastifyRequestCodes().sort());
  });

  it.each(Object.entries(FASTIFY_TRIGGERS))('%s is answered in the error shape', async (_code, trigger) => {
    const answer = await answerTo(trigger.bytes);

    expect(answer.status).toBe(trigger.status);
    expectErrorShape(answer.json!, trigger.status);
    expect(answer.json!.code).toBe(trigger.code);
    expect(answer.headers['x-request-id']).toBe(answer.json!.requestId);
  });

  it('enumerates every llhttp error code: each is provoked below or stated unreachable', () => {
    const listed = [...Object.keys(NODE_TRIGGERS), ...Object.keys(NODE_UNREACHABLE)].sort();
    expect(listed).toEqual([...LLHTTP_ERRORS].sort());
  });

  it.each(Object.entries(NODE_TRIGGERS))(
    '%s is answered in the error shape and closes the connection',
    async (code, bytes) => {
      const answer = await answerTo(bytes);

      const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      expect(answer.status).toBe(status);
      expectErrorShape(answer.json!, status);
      expect(answer.headers.connection).toBe('close');
      if (status === 400) {
        expect(answer.json!.message).toContain(`(${code})`);
      }
    },
  );

  it.each([
    ['GET', '/api/messages', 'POST'],
    ['PUT', '/api/messages/batch', 'POST'],
    ['DELETE', '/actuator/health', 'GET, HEAD, OPTIONS'],
    ['POST', '/actuator/prometheus', 'GET, HEAD, OPTIONS'],
  ])('%s on %s is a 405 with Allow: %s (RFC 9110 §15.5.6)', async (method, path, allow) => {
    const answer = await answerTo(rawRequestBytes(method, path));

    expect(answer.status).toBe(405);
    expectErrorShape(answer.json!, 405);
    expect(answer.json!.code).toBe('METHOD_NOT_ALLOWED');
    expect(answer.headers.allow).toBe(allow);
  });

  it('an Upgrade request is answered as a plain request: no protocol switch is offered (RFC 9110 §7.8)', async () => {
    const answer = await answerTo(
      rawRequestBytes('GET', '/actuator/health/liveness', {
        connection: 'Upgrade, close',
        upgrade: 'websocket',
      }),
    );
    expect(answer.status).toBe(200);
  });

  it('an unknown path is still a 404', async () => {
    const answer = await answerTo(rawRequestBytes('GET', '/api/messages/nothing'));
    expect(answer.status).toBe(404);
    expectErrorShape(answer.json!, 404);
  });

  it('an Expect other than 100-continue is a 417 in the error shape, with X-Request-Id (RFC 9110 §10.1.1)', async () => {
    const answer = await answerTo(
      rawRequestBytes(
        'POST',
        '/api/messages',
        { expect: '200-ok', 'content-type': 'application/json' },
        '{}',
      ),
    );

    expect(answer.status).toBe(417);
    expectErrorShape(answer.json!, 417);
    expect(answer.json!.code).toBe('EXPECTATION_FAILED');
    expect(answer.headers['x-request-id']).toBe(answer.json!.requestId);
  });

  it.each([
    ['no Host in HTTP/1.1', 'GET /actuator/health/liveness HTTP/1.1\r\n\r\n'],
    ['two Host headers', 'GET /actuator/health/liveness HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    [
      'a Host that is no host[:port]',
      'GET /actuator/health/liveness HTTP/1.1\r\nHost: evil.example/<x>\r\n\r\n',
    ],
    ['a Host with a bad port', 'GET /actuator/health/liveness HTTP/1.1\r\nHost: a:port\r\n\r\n'],
  ])('%s is a 400 (RFC 9112 §3.2)', async (_name, bytes) => {
    const answer = await answerTo(bytes);

    expect(answer.status).toBe(400);
    expectErrorShape(answer.json!, 400);
    expect(answer.json!.message).toMatch(/Host/);
  });

  it('an HTTP/1.0 request may omit Host', async () => {
    const answer = await answerTo('GET /actuator/health/liveness HTTP/1.0\r\n\r\n');
    expect(answer.status).toBe(200);
  });

  it('the actuator links use a valid Host as sent', async () => {
    const answer = await answerTo(
      rawRequestBytes('GET', '/actuator', { host: 'example.com:8080', connection: 'close' }),
    );
    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.json)).toContain('"http://example.com:8080/actuator');
  });

  it('an error body stays small whatever the request echoes: a 12 KB unknown query key', async () => {
    const answer = await answerTo(
      rawRequestBytes('POST', `/api/messages/simple?content=x&${'k'.repeat(12000)}=v`, {
        connection: 'close',
      }),
    );

    expect(answer.status).toBe(400);
    expectErrorShape(answer.json!, 400);
    expect(answer.raw.length).toBeLessThan(4096);
    expect((answer.json!.details as { field: string }[])[0]!.field).toMatch(/^k+…$/);
  });
});
