import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { Kafka, KafkaJSConnectionError, KafkaJSSASLAuthenticationError } from 'kafkajs';
import { KafkaFailureKind } from '../common/errors';
import { ProducerObserver, SupervisedProducer } from './supervised-producer';

const CONNECT_TIMEOUT_MS = 2000;

/** A kafkajs producer as far as SupervisedProducer uses it: connect, disconnect and their events. */
class FakeProducer extends EventEmitter {
  readonly events = { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect' };
  connect = jest.fn(() => this.connectAnswer());
  disconnect = jest.fn(() => {
    this.emit(this.events.DISCONNECT);
    return Promise.resolve();
  });

  constructor(private readonly connectAnswer: () => Promise<void>) {
    super();
  }

  /** What kafkajs does once a connection is up. */
  connected(): Promise<void> {
    this.emit(this.events.CONNECT);
    return Promise.resolve();
  }
}

describe(SupervisedProducer.name, () => {
  /** How the next producers the fake client builds answer connect(), one per producer (the last one repeats). */
  let connectAnswers: ((producer: FakeProducer) => Promise<void>)[];
  let built: FakeProducer[];
  let kafka: { producer: jest.Mock };
  let observer: jest.Mocked<ProducerObserver>;
  let sut: SupervisedProducer;

  const connects = (producer: FakeProducer): Promise<void> => producer.connected();
  const refuses = (): Promise<void> =>
    Promise.reject(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'));
  const hangs = (): Promise<void> => new Promise(() => undefined);

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    jest.useFakeTimers();
    connectAnswers = [connects];
    built = [];
    kafka = {
      producer: jest.fn(() => {
        const answer = connectAnswers.length > 1 ? connectAnswers.shift()! : connectAnswers[0]!;
        const producer: FakeProducer = new FakeProducer(() => answer(producer));
        built.push(producer);
        return producer;
      }),
    };
    observer = { attach: jest.fn(), connectionChanged: jest.fn(), replaced: jest.fn() };
    sut = new SupervisedProducer(
      kafka as unknown as Kafka,
      { idempotent: true },
      'idempotent',
      CONNECT_TIMEOUT_MS,
      observer,
    );
  });

  afterEach(async () => {
    await sut.close();
    jest.useRealTimers();
  });

  it('connects on first use, once for concurrent callers, and hands out the connected producer', async () => {
    const [first, second] = await Promise.all([sut.get(), sut.get()]);

    expect(first).toBe(built[0]);
    expect(second).toBe(first);
    expect(kafka.producer).toHaveBeenCalledTimes(1);
    expect(kafka.producer).toHaveBeenCalledWith({ idempotent: true });
    expect(built[0]!.connect).toHaveBeenCalledTimes(1);
    expect(sut.isConnected).toBe(true);
    expect(observer.attach).toHaveBeenCalledWith(built[0], 'idempotent');
    expect(observer.connectionChanged).toHaveBeenLastCalledWith('idempotent', true);
  });

  it('hands out a producer only once connect() finished, not at kafkajs CONNECT (before its producer id is there)', async () => {
    let idAssigned!: () => void;
    // kafkajs: the brokers are connected and CONNECT is emitted, then InitProducerId is still to answer.
    connectAnswers = [
      (producer) => {
        producer.emit(producer.events.CONNECT);
        return new Promise<void>((resolve) => (idAssigned = resolve));
      },
    ];

    const first = sut.get();
    await jest.advanceTimersByTimeAsync(0);
    let second: unknown;
    void sut.get().then((producer) => (second = producer));
    await jest.advanceTimersByTimeAsync(0);

    expect(sut.isConnected).toBe(false);
    expect(second).toBeUndefined();
    idAssigned();
    await expect(first).resolves.toBe(built[0]);
    await jest.advanceTimersByTimeAsync(0);
    expect(second).toBe(built[0]);
    expect(sut.isConnected).toBe(true);
  });

  it('gives up on a connection attempt after its timeout, so a send never hangs on a dead cluster', async () => {
    connectAnswers = [hangs];

    const attempt = sut.get();
    const settled = expect(attempt).rejects.toMatchObject({
      kind: KafkaFailureKind.Retriable,
      message: `connecting producer idempotent timed out after ${CONNECT_TIMEOUT_MS} ms`,
    });
    await jest.advanceTimersByTimeAsync(CONNECT_TIMEOUT_MS);

    await settled;
    expect(built[0]!.disconnect).toHaveBeenCalledTimes(1);
  });

  it('fails fast as Unreachable after a failed attempt, while reconnecting every second in the background', async () => {
    connectAnswers = [refuses, refuses, connects];

    await expect(sut.get()).rejects.toMatchObject({ kind: KafkaFailureKind.Retriable });
    await expect(sut.get()).rejects.toMatchObject({
      kind: KafkaFailureKind.Unreachable,
      errorClass: 'KafkaUnreachable',
    });
    await jest.advanceTimersByTimeAsync(0);
    expect(built).toHaveLength(2);
    expect(sut.isConnected).toBe(false);

    await jest.advanceTimersByTimeAsync(1000);

    expect(built).toHaveLength(3);
    expect(sut.isConnected).toBe(true);
    await expect(sut.get()).resolves.toBe(built[2]);
  });

  it('passes refused credentials on as they are, not as unreachable', async () => {
    connectAnswers = [
      () =>
        Promise.reject(
          // kafkajs' typings omit the message argument its constructor takes at run time.
          new (KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error)(
            'SASL SCRAM-SHA-512 authentication failed',
          ),
        ),
    ];

    await expect(sut.get()).rejects.toMatchObject({ kind: KafkaFailureKind.AuthenticationFailed });
    await expect(sut.get()).rejects.toMatchObject({ kind: KafkaFailureKind.AuthenticationFailed });
  });

  it('keeps its producer (and producer id) until told to rebuild, then disconnects it and builds a new one', async () => {
    const original = await sut.get();
    expect(await sut.get()).toBe(original);

    await sut.replace('the broker rejected the sequence');

    expect(observer.replaced).toHaveBeenCalledWith('idempotent', 'the broker rejected the sequence');
    expect(built[0]!.disconnect).toHaveBeenCalledTimes(1);
    expect(sut.isConnected).toBe(false);
    const replacement = await sut.get();
    expect(replacement).not.toBe(original);
    expect(replacement).toBe(built[1]);
  });

  it('reconnects on next use after kafkajs reports the connection dropped', async () => {
    const producer = await sut.get();

    built[0]!.emit(built[0]!.events.DISCONNECT);

    expect(sut.isConnected).toBe(false);
    expect(observer.connectionChanged).toHaveBeenLastCalledWith('idempotent', false);
    await expect(sut.get()).resolves.toBe(producer);
    expect(built[0]!.connect).toHaveBeenCalledTimes(2);
  });

  it('ignores connection events of a producer it already replaced', async () => {
    await sut.get();
    await sut.replace('stuck');
    await sut.get();

    built[0]!.emit(built[0]!.events.DISCONNECT);

    expect(sut.isConnected).toBe(true);
  });

  it('refuses every use once closed, after disconnecting the producer', async () => {
    await sut.get();

    await sut.close();

    expect(built[0]!.disconnect).toHaveBeenCalledTimes(1);
    await expect(sut.get()).rejects.toMatchObject({
      kind: KafkaFailureKind.Unreachable,
      errorClass: 'ProducerClosed',
    });
  });

  it('waits on close for a connection attempt under way, bounded by its timeout', async () => {
    connectAnswers = [hangs];
    const attempt = sut.get().catch((error: unknown) => error);

    let closed = false;
    const closing = sut.close().then(() => (closed = true));
    await jest.advanceTimersByTimeAsync(CONNECT_TIMEOUT_MS - 1);
    expect(closed).toBe(false);

    await jest.advanceTimersByTimeAsync(1);
    await closing;

    expect(await attempt).toMatchObject({ kind: KafkaFailureKind.Retriable });
    expect(built[0]!.disconnect).toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });
});
