import { HealthIndicatorService } from '@nestjs/terminus';
import { Admin } from 'kafkajs';
import { AppConfig } from '../config/app-config';
import { KafkaClusterHealth } from './kafka-health';

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
