import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import * as lz4 from 'lz4-napi';
import SnappyCodec from 'kafkajs-snappy';
import { CompressionCodecName } from '../config/environment';

interface Encoder {
  buffer: Buffer;
}

/**
 * kafkajs only has gzip built in; the others are registered here, once, before any producer connects.
 * snappy: kafkajs-snappy (pure JS); lz4: lz4-napi (LZ4 frame format, as Kafka uses); zstd:
 * @mongodb-js/zstd 1.x (prebuilt N-API binaries served by the npm registry itself).
 */
export function registerCompressionCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec as () => unknown;
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: Encoder): Promise<Buffer> => lz4.compressFrame(encoder.buffer),
    decompress: async (buffer: Buffer): Promise<Buffer> => lz4.decompressFrame(buffer),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async (encoder: Encoder): Promise<Buffer> => zstdCompress(encoder.buffer, 3),
    decompress: async (buffer: Buffer): Promise<Buffer> => zstdDecompress(buffer),
  });
}

const TYPES: Record<CompressionCodecName, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

export function compressionType(name: CompressionCodecName): CompressionTypes {
  return TYPES[name];
}
