import { RunningApp, startApp } from './support/app';
import { post } from './support/http';
import { kcatRead } from './support/kcat';
import type { SendResultDto } from '../src/messages/dto/send-result.dto';

describe.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'])('KAFKA_PRODUCER_COMPRESSION=%s', (codec) => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ KAFKA_PRODUCER_COMPRESSION: codec });
  });
  afterAll(async () => {
    await running.close();
  });

  it('produces records that kcat (librdkafka) decompresses and reads back intact', async () => {
    const content = `compressed with ${codec}: ${'repetitive text '.repeat(50)}`;
    const { status, body } = await post<SendResultDto>(`${running.url}/api/messages`, { content });

    expect(status).toBe(200);
    const [record] = kcatRead('demo-topic', body.partition, body.offset);
    expect(record?.key).toBe(body.messageId);
    expect((JSON.parse(record?.payload ?? '{}') as { content: string }).content).toBe(content);
  });
});
