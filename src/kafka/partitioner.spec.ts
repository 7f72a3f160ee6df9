import * as fc from 'fast-check';
import { PartitionMetadata, Partitioners } from 'kafkajs';
import { explicitPartitioner, murmur2, partitionForKey } from './partitioner';

// kafkajs' murmur2 (a port of the Java client's) is the reference the service's own must agree with.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (
  key: Buffer,
) => number;

function partitions(count: number): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
}

describe('murmur2 partitioning', () => {
  it('matches the Java client on its published test vectors', () => {
    // From org.apache.kafka.common.utils.UtilsTest#testMurmur2.
    const cases: [string, number][] = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
      ['abc', 479470107],
    ];
    for (const [input, hash] of cases) {
      expect(murmur2(Buffer.from(input, 'utf8'))).toBe(hash);
    }
  });

  it('agrees with kafkajs on arbitrary bytes and strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        expect(murmur2(bytes)).toBe(kafkajsMurmur2(Buffer.from(bytes)) | 0);
      }),
      { numRuns: 2000 },
    );
    const defaultPartitioner = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }),
        fc.integer({ min: 1, max: 64 }),
        (key, count) => {
          const expected = defaultPartitioner({
            topic: 't',
            partitionMetadata: partitions(count),
            message: { key, value: null },
          });
          expect(partitionForKey(key, count)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('sends a record to the partition it carries, else to its key’s', () => {
    const partitioner = explicitPartitioner();
    const metadata = partitions(6);
    expect(
      partitioner({
        topic: 't',
        partitionMetadata: metadata,
        message: { key: 'k', value: null, partition: 4 },
      }),
    ).toBe(4);
    expect(
      partitioner({ topic: 't', partitionMetadata: metadata, message: { key: 'foobar', value: null } }),
    ).toBe(partitionForKey('foobar', 6));
    expect(() => partitioner({ topic: 't', partitionMetadata: metadata, message: { value: null } })).toThrow(
      /neither partition nor key/,
    );
  });
});
