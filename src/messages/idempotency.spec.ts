import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ArgumentsHost } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { AllExceptionsFilter } from '../common/all-exceptions.filter';
import { ErrorCode, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { Metrics } from '../observability/metrics';
import { IdempotencyStore } from '../idempotency/idempotency-store';
import { MemoryIdempotencyStore } from '../idempotency/memory-idempotency.store';
import { Idempotency, idempotentSendOf } from './idempotency';

/** A keyed POST /api/messages and its reply, as Fastify's hooks see them. */
function keyed(key: string, body: unknown = { content: 'hi' }) {
  const req = {
    id: `req-${key}`,
    method: 'POST',
    url: '/api/messages',
    raw: { complete: true },
    headers: { 'idempotency-key': key },
    routeOptions: { url: '/api/messages' },
    body,
    query: {},
  } as unknown as FastifyRequest;
  const sent: { status?: number; headers: Record<string, string>; body?: unknown } = { headers: {} };
  let replied: () => void = () => undefined;
  const answered = new Promise<void>((resolve) => (replied = resolve));
  const reply = {
    statusCode: 200,
    sent: false,
    status(status: number) {
      sent.status = status;
      return this;
    },
    headers(values: Record<string, string>) {
      Object.assign(sent.headers, values);
      return this;
    },
    code(status: number) {
      sent.status = status;
      return this;
    },
    header(name: string, value: string) {
      sent.headers[name] = value;
      return this;
    },
    send(payload: unknown) {
      sent.body = payload;
      replied();
      return this;
    },
  } as unknown as FastifyReply;
  return { req, reply, sent, answered };
}

/** Runs the preHandler hook: 'through' (on to the handler), the error it refused with, or 'replayed'. */
function preHandle(
  sut: Idempotency,
  request: ReturnType<typeof keyed>,
): Promise<'through' | 'replayed' | Error> {
  return new Promise((resolve) => {
    sut.preHandler(request.req, request.reply, (error) => resolve(error ?? 'through'));
    void request.answered.then(() => resolve('replayed'));
  });
}

/** The exception filter refusing the request with `code` (the client may have gone: nothing is awaited). */
function refuse(request: ReturnType<typeof keyed>, code: ErrorCode): void {
  const host = {
    switchToHttp: () => ({ getRequest: () => request.req, getResponse: () => request.reply }),
  } as unknown as ArgumentsHost;
  new AllExceptionsFilter().catch(new ServiceError(code, 'the send failed'), host);
}

/** A first keyed request whose send fails with `code`; returns its settle (what ProducerService calls). */
async function failFirst(
  sut: Idempotency,
  key: string,
  code: ErrorCode,
): Promise<(body: unknown) => Promise<void>> {
  const first = keyed(key);
  expect(await preHandle(sut, first)).toBe('through');
  refuse(first, code);
  return (body) => {
    const send = idempotentSendOf(first.req)!;
    send.settle(body);
    return send.stored;
  };
}

describe(Idempotency.name, () => {
  // The filter logs its refusals through pino's root logger (set up by nestjs-pino in the app): silenced.
  beforeAll(() => {
    (PinoLogger as unknown as { root: pino.Logger }).root = pino({ level: 'silent' });
  });
  const make = (store?: IdempotencyStore): Idempotency => {
    const config = new AppConfig(validateEnvironment({}));
    const metrics = new Metrics();
    return new Idempotency(config, metrics, store ?? new MemoryIdempotencyStore(config.idempotency, metrics));
  };

  it('keeps an unknown outcome in flight (409) until the send settles, then replays what Kafka acknowledged', async () => {
    const sut = make();
    const settle = await failFirst(sut, 'k-unknown', ErrorCode.KafkaOutcomeUnknown);

    expect(await preHandle(sut, keyed('k-unknown'))).toMatchObject({ code: ErrorCode.IdempotencyKeyInUse });

    // The send went through after all: the retry gets that answer, and nothing is produced again.
    await settle({ status: 'success', offset: 7 });
    const replay = keyed('k-unknown');
    expect(await preHandle(sut, replay)).toBe('replayed');
    expect(replay.sent).toEqual({
      status: 200,
      headers: { 'idempotent-replayed': 'true' },
      body: { status: 'success', offset: 7 },
    });
  });

  it('frees the key when the unknown outcome turns out to be "nothing written"', async () => {
    const sut = make();
    const settle = await failFirst(sut, 'k-lost', ErrorCode.KafkaOutcomeUnknown);
    await settle(undefined);
    expect(await preHandle(sut, keyed('k-lost'))).toBe('through');
  });

  it('does not store a failure that certainly wrote nothing, and a late settle of it cannot free a newer request', async () => {
    const sut = make();
    const settle = await failFirst(sut, 'k-failed', ErrorCode.KafkaUnavailable);
    expect(await preHandle(sut, keyed('k-failed'))).toBe('through');
    await settle(undefined);
    expect(await preHandle(sut, keyed('k-failed'))).toMatchObject({ code: ErrorCode.IdempotencyKeyInUse });
  });

  it('refuses the same key with another body (422) and a malformed key (400)', async () => {
    const sut = make();
    const first = keyed('k-body', { content: 'one' });
    expect(await preHandle(sut, first)).toBe('through');
    idempotentSendOf(first.req)!.settle({ status: 'success' });
    await idempotentSendOf(first.req)!.stored;
    expect(await preHandle(sut, keyed('k-body', { content: 'two' }))).toMatchObject({
      code: ErrorCode.IdempotencyKeyMismatch,
    });
    expect(await preHandle(sut, keyed('bad key with spaces'))).toMatchObject({
      code: ErrorCode.InvalidInput,
    });
  });

  it('answers 503 IDEMPOTENCY_STORE_UNAVAILABLE when the store cannot claim the key, and lets nothing through', async () => {
    const unavailable = new ServiceError(ErrorCode.IdempotencyStoreUnavailable, 'no answer within 500 ms', {
      retryAfterSeconds: 1,
    });
    const sut = make({ claim: () => Promise.reject(unavailable) });
    const request = keyed('k-store-down');

    expect(await preHandle(sut, request)).toBe(unavailable);
    expect(idempotentSendOf(request.req)).toBeUndefined();
  });
});
