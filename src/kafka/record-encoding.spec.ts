// kafkajs' record encoder, as patched at install (patches/kafkajs+2.2.4.patch): its buffers come from
// Buffer.allocUnsafe (Node's pool, not zeroed) instead of Buffer.alloc. That is safe only if no byte it did
// not write ever reaches the wire: the same record must encode to the same bytes whatever the pool held.
import { randomBytes } from 'node:crypto';

type Encoded = { buffer: Buffer };
// kafkajs' own record encoder (v2 record format): an internal module, without type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer;
  headers: Record<string, string>;
}) => Encoded;

/** Leaves Node's allocation pool full of `byte`, as earlier requests' buffers would. */
function dirtyPool(byte: number): void {
  for (let i = 0; i < 64; i++) {
    Buffer.allocUnsafe(4000).fill(byte);
  }
}

describe('kafkajs record encoding with unzeroed buffers', () => {
  it('is byte-for-byte the same whatever the allocation pool held before', () => {
    for (let i = 0; i < 200; i++) {
      const record = {
        offsetDelta: i,
        timestampDelta: i * 7,
        key: i % 3 === 0 ? null : randomBytes(i % 40),
        value: randomBytes((i * 37) % 3000),
        headers: { 'content-type': 'application/json', 'message-type': 'INFO', 'x-request-id': `r-${i}` },
      };
      dirtyPool(0xaa);
      const first = Buffer.from(encodeRecord(record).buffer);
      dirtyPool(0x55);
      const second = Buffer.from(encodeRecord(record).buffer);

      expect(second.equals(first)).toBe(true);
      expect(first.includes(record.value)).toBe(true);
    }
  });

  it('runs the patched encoder (the postinstall applied patches/)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Encoder = require('kafkajs/src/protocol/encoder') as { toString(): string };

    expect(Encoder.toString()).toContain('Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize))');
  });
});
