import { HealthIndicatorService } from '@nestjs/terminus';
import { Admin } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { KafkaClusterHealth, KafkaProducerHealth } from './kafka-health';
import { KafkaPublisher } from './kafka-publisher';
import { TopicProvisioner } from './topic-provisioner';

type Described = Awaited<ReturnType<Admin['describeCluster']>>;

describe(KafkaClusterHealth.name, () => {
  it('leaves a describeCluster that outlived its check to the next check, which waits on it instead of asking again', async () => {
    // The first request goes to a broker that stopped answering; kafkajs settles it later (its request
    // timeout, then another broker). Any further request would hang as well.
    let answerFirst: (value: Described) => void = () => undefined;
    const describeCluster = jest
      .fn<Promise<Described>, []>()
      .mockImplementationOnce(() => new Promise((resolve) => (answerFirst = resolve)))
      .mockImplementation(() => new Promise(() => undefined));
    const admin = { connect: () => Promise.resolve(), describeCluster } as unknown as Admin;
    const config = { health: { timeoutMs: 50, cacheMs: 0 } } as AppConfig;
    const health = new KafkaClusterHealth(admin, new HealthIndicatorService(), config);

    expect((await health.cluster()).status).toBe('DOWN');
    const second = health.cluster();
    answerFirst({ brokers: [{ nodeId: 2, host: 'b', port: 9092 }], controller: 2, clusterId: 'c' });

    expect(await second).toMatchObject({ status: 'UP', details: { brokerCount: 1, controllerId: 2 } });
    expect(describeCluster).toHaveBeenCalledTimes(1);
  });
});

describe(KafkaProducerHealth.name, () => {
  function health(connected: boolean) {
    const publisher = { producerConnected: connected, reconnect: jest.fn() };
    const cluster = { cluster: () => Promise.resolve({ status: 'UP' }) };
    const indicator = new KafkaProducerHealth(
      publisher as unknown as KafkaPublisher,
      { provisioned: true } as TopicProvisioner,
      cluster as unknown as KafkaClusterHealth,
      new HealthIndicatorService(),
    );
    return { indicator, publisher };
  }

  it('is UP while the publisher can send, and leaves its producers alone', async () => {
    const { indicator, publisher } = health(true);

    expect(await indicator.isHealthy('kafkaProducer')).toMatchObject({
      kafkaProducer: { status: 'up', connected: true, topicsProvisioned: true },
    });
    expect(publisher.reconnect).not.toHaveBeenCalled();
  });

  it('is DOWN while no producer is connected, and asks them to connect when the cluster answers', async () => {
    const { indicator, publisher } = health(false);

    expect(await indicator.isHealthy('kafkaProducer')).toMatchObject({
      kafkaProducer: { status: 'down', connected: false, topicsProvisioned: true },
    });
    expect(publisher.reconnect).toHaveBeenCalledTimes(1);
  });
});
