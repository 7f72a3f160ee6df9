import { Logger } from '@nestjs/common';
import { MessageHandler } from '@nestjs/microservices';
import { of, throwError } from 'rxjs';
import {
  ConsumedRecord,
  ConsumerRunner,
  ConsumerRunnerFactory,
  ConsumerRunnerOptions,
} from './consumer-runner';
import { KafkaRecordContext } from './kafka-record.context';
import { KafkaTransport } from './kafka-transport';

const record: ConsumedRecord = {
  topic: 'feedback-topic',
  partition: 0,
  offset: '3',
  key: null,
  value: Buffer.from([0x7b, 0x7d]),
  headers: {},
  timestamp: '1700000000000',
};

/** An event handler as Nest's ListenersController registers it. */
function eventHandler(fn: (data: unknown, context: unknown) => unknown): MessageHandler {
  return jest.fn(fn) as unknown as MessageHandler;
}

describe(KafkaTransport.name, () => {
  let created: ConsumerRunnerOptions[];
  let runners: { start: jest.Mock; stop: jest.Mock }[];
  let membership: [string, boolean][];
  let sut: KafkaTransport;

  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  beforeEach(() => {
    created = [];
    runners = [];
    membership = [];
    const factory = {
      create: (options: ConsumerRunnerOptions) => {
        created.push(options);
        const runner = { start: jest.fn(), stop: jest.fn().mockResolvedValue(undefined) };
        runners.push(runner);
        return runner as unknown as ConsumerRunner;
      },
    } as ConsumerRunnerFactory;
    sut = new KafkaTransport(factory, {
      consumers: {
        feedback: { topic: 'feedback-topic', groupId: 'app-consumer-group' },
        audit: null,
      },
      membershipChanged: (group, inGroup) => membership.push([group, inGroup]),
    });
  });

  function listen(): Promise<unknown> {
    return new Promise((resolve) => sut.listen((error?: unknown) => resolve(error)));
  }

  it('starts one consumer per handled pattern, on the topic and group the configuration names, without waiting', async () => {
    sut.addHandler(
      'feedback',
      eventHandler(() => undefined),
      true,
    );

    await expect(listen()).resolves.toBeUndefined();

    expect(created).toEqual([
      expect.objectContaining({ topic: 'feedback-topic', groupId: 'app-consumer-group' }),
    ]);
    expect(runners[0]?.start).toHaveBeenCalledTimes(1);
    expect(sut.consumerOf('feedback')).toBe(runners[0]);
  });

  it('starts no consumer for a pattern whose consumer is switched off', async () => {
    sut.addHandler(
      'audit',
      eventHandler(() => undefined),
      true,
    );

    await expect(listen()).resolves.toBeUndefined();

    expect(created).toEqual([]);
    expect(sut.consumerOf('audit')).toBeUndefined();
  });

  it('fails start-up for a pattern the configuration does not know, and for request-response handlers', async () => {
    sut.addHandler(
      'nope',
      eventHandler(() => undefined),
      true,
    );
    expect(String(await listen())).toMatch(/no consumer is configured for the pattern\(s\) nope/);

    const other = new KafkaTransport({ create: jest.fn() } as unknown as ConsumerRunnerFactory, {
      consumers: { feedback: { topic: 't', groupId: 'g' } },
    });
    other.addHandler(
      'feedback',
      eventHandler(() => undefined),
      false,
    );
    const error = await new Promise((resolve) => other.listen((e?: unknown) => resolve(e)));
    expect(String(error)).toMatch(/@EventPattern handlers only/);
  });

  it('hands each record to the handler: the value bytes as payload, the record and heartbeat in the context', async () => {
    const handler = eventHandler(() => of('done'));
    sut.addHandler('feedback', handler, true);
    await listen();
    const heartbeat = jest.fn(() => Promise.resolve());

    await created[0]!.handle(record, heartbeat);

    const [data, context] = (handler as unknown as jest.Mock).mock.calls[0] as [unknown, KafkaRecordContext];
    expect(data).toBe(record.value);
    expect(context).toBeInstanceOf(KafkaRecordContext);
    expect(context.record).toBe(record);
    await context.heartbeat();
    expect(heartbeat).toHaveBeenCalledTimes(1);
  });

  it('completes a record (so the runner commits it) only after the handler observable completed', async () => {
    let complete: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (complete = resolve));
    sut.addHandler(
      'feedback',
      eventHandler(() => Promise.resolve(done.then(() => 'ok'))),
      true,
    );
    await listen();

    let finished = false;
    const handling = created[0]!.handle(record, () => Promise.resolve()).then(() => (finished = true));
    await new Promise(setImmediate);
    expect(finished).toBe(false);
    complete();
    await handling;

    expect(finished).toBe(true);
  });

  it('fails the record (so the runner does not commit it) when the handler observable errors', async () => {
    sut.addHandler(
      'feedback',
      eventHandler(() => throwError(() => new Error('dead letter not written'))),
      true,
    );
    await listen();

    await expect(created[0]!.handle(record, () => Promise.resolve())).rejects.toThrow(
      'dead letter not written',
    );
  });

  it('reports group membership by group', async () => {
    sut.addHandler(
      'feedback',
      eventHandler(() => undefined),
      true,
    );
    await listen();

    created[0]!.membershipChanged!(true);
    created[0]!.membershipChanged!(false);

    expect(membership).toEqual([
      ['app-consumer-group', true],
      ['app-consumer-group', false],
    ]);
  });

  it('stops every consumer on close', async () => {
    sut.addHandler(
      'feedback',
      eventHandler(() => undefined),
      true,
    );
    await listen();

    await sut.close();

    expect(runners[0]?.stop).toHaveBeenCalledTimes(1);
  });
});
