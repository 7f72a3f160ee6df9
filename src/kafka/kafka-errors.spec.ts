import {
  KafkaJSConnectionError,
  KafkaJSRequestTimeoutError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { KafkaFailureKind } from '../common/errors';
import { classifyKafkaError } from './kafka-errors';

/** A protocol error as kafkajs builds it from a broker's error code (kafkajs/src/protocol/error.js). */
const protocolError = (type: string, code: number, retriable = false): KafkaJSProtocolError =>
  new KafkaJSProtocolError(Object.assign(new Error(type), { type, code, retriable }));

/** kafkajs' retrier wraps with { cause } at run time (src/retry/index.js); its typings omit the option. */
type Wrapper = new (error: Error, metadata: Record<string, unknown>) => Error;
const wrap = (Ctor: unknown, cause: Error): Error =>
  new (Ctor as Wrapper)(cause, { retryCount: 2, retryTime: 100, cause });

describe(classifyKafkaError.name, () => {
  it('says a refused connection, wrapped in exhausted retries, is worth retrying', () => {
    const failure = classifyKafkaError(
      wrap(KafkaJSNumberOfRetriesExceeded, new KafkaJSConnectionError('connect ECONNREFUSED')),
    );
    expect(failure.kind).toBe(KafkaFailureKind.Retriable);
    expect(failure.resetsProducer).toBe(false);
  });

  it.each([
    ['MESSAGE_TOO_LARGE', 10, KafkaFailureKind.RecordTooLarge],
    ['TOPIC_AUTHORIZATION_FAILED', 29, KafkaFailureKind.NotAuthorized],
    ['UNKNOWN_TOPIC_OR_PARTITION', 3, KafkaFailureKind.UnknownTopic],
    // The broker's record validation refused it: rejected for good, not "too large".
    ['INVALID_RECORD', 87, KafkaFailureKind.Fatal],
  ] as const)('reads %s inside kafkajs wrappers as %s', (type, code, kind) => {
    const failure = classifyKafkaError(wrap(KafkaJSNonRetriableError, protocolError(type, code)));
    expect(failure.kind).toBe(kind);
    expect(failure.errorClass).toBe(type);
  });

  it('asks for a new producer after an out-of-order sequence answer', () => {
    const failure = classifyKafkaError(
      wrap(KafkaJSNumberOfRetriesExceeded, protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER', 45, true)),
    );
    expect(failure.kind).toBe(KafkaFailureKind.Retriable);
    expect(failure.resetsProducer).toBe(true);
  });

  it.each([
    [
      'a refused connection',
      new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'),
      true,
    ],
    ['a broker error code', protocolError('NOT_ENOUGH_REPLICAS', 19, true), true],
    [
      'a request timeout',
      new KafkaJSRequestTimeoutError('Request Produce(key: 0, version: 7) timed out'),
      false,
    ],
    [
      'a connection reset mid-request',
      new KafkaJSConnectionError('Connection error: read ECONNRESET'),
      false,
    ],
  ])('knows whether a request could have been appended after %s', (_what, error, answered) => {
    const failure = classifyKafkaError(wrap(KafkaJSNumberOfRetriesExceeded, error));
    expect(failure.kind).toBe(KafkaFailureKind.Retriable);
    expect(failure.brokerAnswered).toBe(answered);
  });
});
