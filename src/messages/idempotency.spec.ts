import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ArgumentsHost } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { AllExceptionsFilter } from '../common/all-exceptions.filter';
import { ErrorCode, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { Metrics } from '../observability/metrics';
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
      return this;
    },
  } as unknown as FastifyReply;
  return { req, reply, sent };
}

/** Runs the preHandler hook: 'through' (on to the handler), the error it refused with, or 'replayed'. */
function preHandle(sut: Idempotency, request: ReturnType<typeof keyed>): 'through' | 'replayed' | Error {
  let outcome: 'through' | 'replayed' | Error = 'replayed';
  sut.preHandler(request.req, request.reply, (error) => {
    outcome = error ?? 'through';
  });
  return outcome;
}

/** The exception filter refusing the request with `code` (the client may have gone: nothing is awaited). */
function refuse(request: ReturnType<typeof keyed>, code: ErrorCode): void {
  const host = {
    switchToHttp: () => ({ getRequest: () => request.req, getResponse: () => request.reply }),
  } as unknown as ArgumentsHost;
  new AllExceptionsFilter().catch(new ServiceError(code, 'the send failed'), host);
}

/** A first keyed request whose send fails with `code`; returns its settle handle (what ProducerService calls). */
function failFirst(sut: Idempotency, key: string, code: ErrorCode): (body: unknown) => void {
  const first = keyed(key);
  expect(preHandle(sut, first)).toBe('through');
  refuse(first, code);
  return (body) => idempotentSendOf(first.req)!.settle(body);
}

describe(Idempotency.name, () => {
  // The filter logs its refusals through pino's root logger (set up by nestjs-pino in the app): silenced.
  beforeAll(() => {
    (PinoLogger as unknown as { root: pino.Logger }).root = pino({ level: 'silent' });
  });
  const make = (): Idempotency => new Idempotency(new AppConfig(validateEnvironment({})), new Metrics());

  it('keeps an unknown outcome in flight (409) until the send settles, then replays what Kafka acknowledged', () => {
    const sut = make();
    const settle = failFirst(sut, 'k-unknown', ErrorCode.KafkaOutcomeUnknown);

    expect(preHandle(sut, keyed('k-unknown'))).toMatchObject({ code: ErrorCode.IdempotencyKeyInUse });

    // The send went through after all: the retry gets that answer, and nothing is produced again.
    settle({ status: 'success', offset: 7 });
    const replay = keyed('k-unknown');
    expect(preHandle(sut, replay)).toBe('replayed');
    expect(replay.sent).toEqual({
      status: 200,
      headers: { 'idempotent-replayed': 'true' },
      body: { status: 'success', offset: 7 },
    });
  });

  it('frees the key when the unknown outcome turns out to be "nothing written"', () => {
    const sut = make();
    const settle = failFirst(sut, 'k-lost', ErrorCode.KafkaOutcomeUnknown);
    settle(undefined);
    expect(preHandle(sut, keyed('k-lost'))).toBe('through');
  });

  it('does not store a failure that certainly wrote nothing, and a late settle of it cannot free a newer request', () => {
    const sut = make();
    const settle = failFirst(sut, 'k-failed', ErrorCode.KafkaUnavailable);
    expect(preHandle(sut, keyed('k-failed'))).toBe('through');
    settle(undefined);
    expect(preHandle(sut, keyed('k-failed'))).toMatchObject({ code: ErrorCode.IdempotencyKeyInUse });
  });

  it('refuses the same key with another body (422) and a malformed key (400)', () => {
    const sut = make();
    const first = keyed('k-body', { content: 'one' });
    expect(preHandle(sut, first)).toBe('through');
    idempotentSendOf(first.req)!.settle({ status: 'success' });
    expect(preHandle(sut, keyed('k-body', { content: 'two' }))).toMatchObject({
      code: ErrorCode.IdempotencyKeyMismatch,
    });
    expect(preHandle(sut, keyed('bad key with spaces'))).toMatchObject({ code: ErrorCode.InvalidInput });
  });
});
