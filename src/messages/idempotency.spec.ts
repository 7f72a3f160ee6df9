import { CallHandler, ExecutionContext } from '@nestjs/common';
import { firstValueFrom, Observable, of, throwError } from 'rxjs';
import { ErrorCode, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { validateEnvironment } from '../config/environment';
import { Metrics } from '../observability/metrics';
import { IdempotencyInterceptor, idempotentSendOf } from './idempotency';

/** A keyed POST /api/messages as the interceptor sees it. */
function keyedRequest(
  key: string,
  body: unknown = { content: 'hi' },
): { context: ExecutionContext; req: object } {
  const req = {
    headers: { 'idempotency-key': key },
    routeOptions: { url: '/api/messages' },
    body,
    query: {},
  };
  const reply = { header: jest.fn() };
  const context = {
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => reply }),
  } as unknown as ExecutionContext;
  return { context, req };
}

const handler = (result: Observable<unknown>): CallHandler => ({ handle: () => result });

/** A first keyed request whose send fails with `code`; returns its settle handle (what ProducerService calls). */
async function failFirst(
  sut: IdempotencyInterceptor,
  key: string,
  code: ErrorCode,
): Promise<(body: unknown) => void> {
  const first = keyedRequest(key);
  const error = new ServiceError(code, 'the send failed');
  await expect(firstValueFrom(sut.intercept(first.context, handler(throwError(() => error))))).rejects.toBe(
    error,
  );
  return (body) => idempotentSendOf(first.req as never)!.settle(body);
}

describe(IdempotencyInterceptor.name, () => {
  const make = (): IdempotencyInterceptor =>
    new IdempotencyInterceptor(new AppConfig(validateEnvironment({})), new Metrics());

  it('keeps an unknown outcome in flight (409) until the send settles, then replays what Kafka acknowledged', async () => {
    const sut = make();
    const settle = await failFirst(sut, 'k-unknown', ErrorCode.KafkaOutcomeUnknown);

    expect(() => sut.intercept(keyedRequest('k-unknown').context, handler(of('never')))).toThrow(
      /still being processed/,
    );

    // The send went through after all: the retry gets that answer, and nothing is produced again.
    settle({ status: 'success', offset: 7 });
    const replay = sut.intercept(keyedRequest('k-unknown').context, handler(of('produced again')));
    await expect(firstValueFrom(replay)).resolves.toEqual({ status: 'success', offset: 7 });
  });

  it('frees the key when the unknown outcome turns out to be "nothing written"', async () => {
    const sut = make();
    const settle = await failFirst(sut, 'k-lost', ErrorCode.KafkaOutcomeUnknown);
    settle(undefined);
    const retry = sut.intercept(
      keyedRequest('k-lost').context,
      handler(of({ status: 'success', offset: 9 })),
    );
    await expect(firstValueFrom(retry)).resolves.toEqual({ status: 'success', offset: 9 });
  });

  it('does not store a failure that certainly wrote nothing, and a late settle of it cannot free a newer request', async () => {
    const sut = make();
    const settle = await failFirst(sut, 'k-failed', ErrorCode.KafkaUnavailable);
    const second = keyedRequest('k-failed');
    const pending = sut.intercept(second.context, handler(new Observable(() => undefined)));
    pending.subscribe();
    settle(undefined);
    expect(() => sut.intercept(keyedRequest('k-failed').context, handler(of('x')))).toThrow(
      /still being processed/,
    );
  });
});
