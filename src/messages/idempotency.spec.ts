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

describe(IdempotencyInterceptor.name, () => {
  const make = (): IdempotencyInterceptor =>
    new IdempotencyInterceptor(new AppConfig(validateEnvironment({})), new Metrics());

  it('keeps an unknown outcome in flight (409) until the send settles, then replays what Kafka acknowledged', async () => {
    const sut = make();
    const first = keyedRequest('k-unknown');
    const unknown = new ServiceError(ErrorCode.KafkaOutcomeUnknown, 'no ack in time');
    await expect(
      firstValueFrom(sut.intercept(first.context, handler(throwError(() => unknown)))),
    ).rejects.toBe(unknown);

    expect(() => sut.intercept(keyedRequest('k-unknown').context, handler(of('never')))).toThrow(
      /still being processed/,
    );

    // The send went through after all: the retry gets that answer, and nothing is produced again.
    idempotentSendOf(first.req as never)!.settle({ status: 'success', offset: 7 });
    const replay = sut.intercept(keyedRequest('k-unknown').context, handler(of('produced again')));
    await expect(firstValueFrom(replay)).resolves.toEqual({ status: 'success', offset: 7 });
  });

  it('frees the key when the unknown outcome turns out to be "nothing written"', async () => {
    const sut = make();
    const first = keyedRequest('k-lost');
    const unknown = new ServiceError(ErrorCode.KafkaOutcomeUnknown, 'no ack in time');
    await expect(
      firstValueFrom(sut.intercept(first.context, handler(throwError(() => unknown)))),
    ).rejects.toBe(unknown);
    idempotentSendOf(first.req as never)!.settle(undefined);
    const retry = sut.intercept(
      keyedRequest('k-lost').context,
      handler(of({ status: 'success', offset: 9 })),
    );
    await expect(firstValueFrom(retry)).resolves.toEqual({ status: 'success', offset: 9 });
  });

  it('does not store a failure that certainly wrote nothing, and a late settle of it cannot free a newer request', async () => {
    const sut = make();
    const first = keyedRequest('k-failed');
    const refused = new ServiceError(ErrorCode.KafkaUnavailable, 'not sent');
    await expect(
      firstValueFrom(sut.intercept(first.context, handler(throwError(() => refused)))),
    ).rejects.toBe(refused);
    const second = keyedRequest('k-failed');
    const pending = sut.intercept(second.context, handler(new Observable(() => undefined)));
    pending.subscribe();
    idempotentSendOf(first.req as never)!.settle(undefined);
    expect(() => sut.intercept(keyedRequest('k-failed').context, handler(of('x')))).toThrow(
      /still being processed/,
    );
  });
});
