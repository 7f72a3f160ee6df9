import { TopicSpec } from '../config/app-config';
import { replicationWarnings } from './topic-provisioner';

const topic = (replicationFactor: number, minIsr: number): TopicSpec => ({
  name: 'demo-topic',
  partitions: 3,
  replicationFactor,
  configs: { 'min.insync.replicas': String(minIsr) },
});

describe(replicationWarnings.name, () => {
  it('says nothing when the cluster can meet replication factor and min.insync.replicas', () => {
    expect(replicationWarnings([topic(3, 2)], 3)).toEqual([]);
  });

  it('warns when the replication factor exceeds the brokers', () => {
    expect(replicationWarnings([topic(3, 2)], 1)).toEqual([
      expect.stringMatching(/replication factor 3, but the cluster has 1 broker/),
      expect.stringMatching(/min.insync.replicas=2, but the cluster has 1 broker/),
    ]);
  });

  it('warns when min.insync.replicas exceeds the replication factor', () => {
    expect(replicationWarnings([topic(2, 3)], 3)).toEqual([
      expect.stringMatching(/min.insync.replicas=3 above its replication factor 2/),
    ]);
  });
});
