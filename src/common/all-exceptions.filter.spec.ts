import { Writable } from 'node:stream';
import {
  ArgumentsHost,
  HttpException,
  MethodNotAllowedException,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { AllExceptionsFilter, EXCEPTION_CLASS, WithExceptionClass } from './all-exceptions.filter';
import { ErrorBody } from './error-response';
import { ErrorCode, InvalidInputError, ServiceError } from './errors';

/** What Nest hands the filter for an HTTP request on Fastify. */
const hostOf = (req: FastifyRequest, reply: FastifyReply): ArgumentsHost =>
  ({
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => reply, getNext: () => undefined }),
  }) as unknown as ArgumentsHost;

describe(AllExceptionsFilter.name, () => {
  const sut = new AllExceptionsFilter();
  let server: FastifyInstance;
  let url: string;
  let logLines: Record<string, unknown>[];
  /** What the route under test throws, and the exception class the filter noted on the reply. */
  let thrown: unknown;
  let notedClass: string | undefined;

  beforeAll(async () => {
    // The filter logs through pino's root logger (as nestjs-pino sets it up in the app): captured here.
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    (PinoLogger as unknown as { root: pino.Logger }).root = pino({ level: 'debug' }, sink);

    server = Fastify({ requestIdHeader: 'x-request-id' });
    const refuse = (req: FastifyRequest, reply: FastifyReply): void => {
      sut.catch(thrown, hostOf(req, reply));
      notedClass = (reply as WithExceptionClass)[EXCEPTION_CLASS];
    };
    server.post('/api/messages', (req, reply) => refuse(req, reply));
    server.get('/already-answered', async (req, reply) => {
      await reply.send({ status: 'ok' });
      refuse(req, reply);
    });
    // Refused before the body was read, as the API-key hook does.
    server.register((scope, _options, done) => {
      scope.addHook('onRequest', (req, reply, next) => {
        refuse(req, reply);
        next();
      });
      scope.post('/api/before-body', () => ({ never: 'reached' }));
      done();
    });
    url = await server.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(() => {
    logLines = [];
    notedClass = undefined;
  });

  async function post(path = '/api/messages?partition=1'): Promise<{ response: Response; body: ErrorBody }> {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-42' },
      body: '{"content":"hi"}',
    });
    return { response, body: (await response.json()) as ErrorBody };
  }

  it('writes a domain error with the status of its code, in the one error shape, with the request id and path', async () => {
    thrown = new InvalidInputError([{ field: 'content', reason: 'must not be blank' }]);

    const { response, body } = await post();

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(body).toEqual({
      status: 'error',
      statusCode: 400,
      error: 'Bad Request',
      code: 'INVALID_INPUT',
      message: 'Validation failed: content: must not be blank',
      details: [{ field: 'content', reason: 'must not be blank' }],
      requestId: 'req-42',
      path: '/api/messages',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as string,
    });
    expect(notedClass).toBe('InvalidInputError');
  });

  it.each([
    [ErrorCode.Unauthenticated, 401, 'Unauthorized'],
    [ErrorCode.KafkaNotAuthorized, 403, 'Forbidden'],
    [ErrorCode.IdempotencyKeyInUse, 409, 'Conflict'],
    [ErrorCode.IdempotencyKeyMismatch, 422, 'Unprocessable Content'],
    [ErrorCode.RecordTooLarge, 413, 'Payload Too Large'],
    [ErrorCode.HeadersTooLarge, 431, 'Request Header Fields Too Large'],
    [ErrorCode.KafkaRejected, 502, 'Bad Gateway'],
    [ErrorCode.KafkaOutcomeUnknown, 503, 'Service Unavailable'],
    [ErrorCode.IdempotencyStoreUnavailable, 503, 'Service Unavailable'],
  ])('answers %s with %i %s', async (code, status, reason) => {
    thrown = new ServiceError(code, 'refused');

    const { response, body } = await post();

    expect(response.status).toBe(status);
    expect(body).toMatchObject({ statusCode: status, error: reason, code, message: 'refused' });
    expect(body).not.toHaveProperty('details');
  });

  it('asks an unauthenticated caller for a bearer token', async () => {
    thrown = new ServiceError(ErrorCode.Unauthenticated, 'API key required');

    const { response } = await post();

    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="kafka-producer-service"');
  });

  it('tells a refused caller when to retry', async () => {
    thrown = new ServiceError(ErrorCode.Overloaded, 'too many sends in flight', { retryAfterSeconds: 2 });

    const { response } = await post();

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(response.headers.get('www-authenticate')).toBeNull();
  });

  it('logs the cause of a 5xx at error level and never puts it in the body', async () => {
    thrown = new ServiceError(ErrorCode.KafkaUnavailable, 'Kafka is unavailable', {
      cause: new Error('connect ECONNREFUSED 10.0.0.7:9092'),
    });

    const { response, body } = await post();

    expect(response.status).toBe(503);
    expect(JSON.stringify(body)).not.toContain('ECONNREFUSED');
    expect(logLines).toEqual([
      expect.objectContaining({
        level: 50,
        context: 'Errors',
        requestId: 'req-42',
        msg: 'POST /api/messages -> 503 KAFKA_UNAVAILABLE Kafka is unavailable: connect ECONNREFUSED 10.0.0.7:9092 [request req-42]',
      }),
    ]);
  });

  it('logs a 4xx at debug level only', async () => {
    thrown = new ServiceError(ErrorCode.NotFound, 'no such thing');

    await post();

    expect(logLines.map((line) => line.level)).toEqual([20]);
  });

  it.each([
    [new NotFoundException('Cannot POST /api/messages'), 404, 'NOT_FOUND', 'Cannot POST /api/messages'],
    [
      new PayloadTooLargeException('Request body is too large'),
      413,
      'PAYLOAD_TOO_LARGE',
      'Request body is too large',
    ],
    [new HttpException('Bad Request', 400), 400, 'MALFORMED_REQUEST', 'Bad Request'],
  ])(
    "maps Nest's and Fastify's own refusal %p to the domain code",
    async (exception, status, code, message) => {
      thrown = exception;

      const { response, body } = await post();

      expect(response.status).toBe(status);
      expect(body).toMatchObject({ statusCode: status, code, message, path: '/api/messages' });
    },
  );

  it('keeps the status of an HttpException without a domain code, named after its reason phrase', async () => {
    thrown = new MethodNotAllowedException(['only POST', 'and GET']);

    const { response, body } = await post();

    expect(response.status).toBe(405);
    expect(body).toMatchObject({
      error: 'Method Not Allowed',
      code: 'METHOD_NOT_ALLOWED',
      message: 'only POST; and GET',
    });
  });

  it('answers anything else as a 500 that hides the error, and logs its stack', async () => {
    thrown = new TypeError("Cannot read properties of undefined (reading 'secret')");

    const { response, body } = await post();

    expect(response.status).toBe(500);
    expect(body).toMatchObject({
      code: 'INTERNAL_ERROR',
      message: 'Internal server error',
      requestId: 'req-42',
    });
    expect(JSON.stringify(body)).not.toContain('secret');
    expect(notedClass).toBe('TypeError');
    expect(logLines).toHaveLength(1);
    expect(logLines[0]).toMatchObject({ level: 50, msg: 'POST /api/messages -> 500 [request req-42]' });
    expect(String(logLines[0]!.stack)).toContain(
      "TypeError: Cannot read properties of undefined (reading 'secret')",
    );
  });

  it('closes the connection after refusing a request whose body it did not read', async () => {
    thrown = new ServiceError(ErrorCode.Unauthenticated, 'API key required');

    const { response, body } = await post('/api/before-body');

    expect(response.status).toBe(401);
    expect(body.path).toBe('/api/before-body');
    expect(response.headers.get('connection')).toBe('close');
  });

  it('keeps the connection open after refusing a request whose body was read', async () => {
    thrown = new InvalidInputError([{ field: 'content', reason: 'must not be blank' }]);

    const { response } = await post();

    expect(response.headers.get('connection')).toBe('keep-alive');
  });

  it('leaves an answer already sent alone', async () => {
    thrown = new ServiceError(ErrorCode.KafkaUnavailable, 'too late');

    const response = await fetch(`${url}/already-answered`);

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(logLines).toEqual([]);
  });
});
