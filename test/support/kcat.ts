import { spawnSync } from 'node:child_process';

/** A record as kcat (an independent client, librdkafka-based) reads it back. */
export interface KcatRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers: Record<string, string>;
}

interface KcatJson {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers?: string[];
}

function brokers(given?: string): string {
  const value = given ?? process.env.KAFKA_BROKERS;
  if (!value) {
    throw new Error('KAFKA_BROKERS is not set: the e2e global setup did not run');
  }
  return value;
}

function run(args: string[], input?: string, bootstrap?: string): string {
  const result = spawnSync('kcat', ['-b', brokers(bootstrap), ...args], {
    encoding: 'utf8',
    input,
    timeout: 30000,
    maxBuffer: 512 * 1024 * 1024,
  });
  if (result.error) {
    throw new Error(`kcat could not run: ${result.error.message} (is the kcat package installed?)`);
  }
  if (result.status !== 0) {
    throw new Error(`kcat ${args.join(' ')} failed (exit ${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

function parse(line: string): KcatRecord {
  const json = JSON.parse(line) as KcatJson;
  const headers: Record<string, string> = {};
  const flat = json.headers ?? [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    headers[flat[i] as string] = flat[i + 1] as string;
  }
  return {
    topic: json.topic,
    partition: json.partition,
    offset: json.offset,
    key: json.key,
    payload: json.payload,
    headers,
  };
}

/** Reads `count` records of one partition from `offset` on (read_committed unless told otherwise). */
export function kcatRead(
  topic: string,
  partition: number,
  offset: number,
  count = 1,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
): KcatRecord[] {
  const out = run([
    '-C',
    '-t',
    topic,
    '-p',
    String(partition),
    '-o',
    String(offset),
    '-c',
    String(count),
    '-e',
    '-J',
    '-X',
    `isolation.level=${isolation}`,
  ]);
  return out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map(parse);
}

/** Reads every record of a topic, all partitions, from the beginning to the current end. */
export function kcatReadAll(
  topic: string,
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
  bootstrap?: string,
): KcatRecord[] {
  const out = run(
    ['-C', '-t', topic, '-o', 'beginning', '-e', '-J', '-X', `isolation.level=${isolation}`],
    undefined,
    bootstrap,
  );
  return out
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map(parse);
}

/** Produces records with kcat: each line `key<TAB>value`. */
export function kcatProduce(
  topic: string,
  records: { key: string; value: string; headers?: Record<string, string> }[],
): void {
  for (const record of records) {
    const headerArgs = Object.entries(record.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
    run(['-P', '-t', topic, '-K', '\t', ...headerArgs], `${record.key}\t${record.value}\n`);
  }
}

/** A record as kcat reads it, byte for byte: null key or value kept, headers in record order. */
export interface KcatBytesRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** [name, value] in record order, repeated names included. */
  headers: [string, Buffer][];
}

/**
 * Reads every record of a topic byte for byte, through kcat's format string: lengths (-1 for null) and
 * then the raw key and value bytes, so nothing is decoded on the way. Header values are cut at kcat's
 * `name=value,…` separators, and kcat prints them as C strings: a test reading them must use values
 * without `,`, `=`, newlines or NUL bytes (keys and values have none of these limits).
 */
export function kcatReadBytes(topic: string): KcatBytesRecord[] {
  const result = spawnSync(
    'kcat',
    ['-b', brokers(), '-C', '-t', topic, '-o', 'beginning', '-e', '-f', '@@%p %o %K %S\\n%k%s\\n%h\\n'],
    { timeout: 30000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (result.status !== 0) {
    throw new Error(`kcat failed (exit ${result.status}): ${result.stderr.toString('utf8')}`);
  }
  const out = result.stdout;
  const records: KcatBytesRecord[] = [];
  let at = 0;
  const line = (): Buffer => {
    const end = out.indexOf(0x0a, at);
    const read = out.subarray(at, end);
    at = end + 1;
    return read;
  };
  const bytes = (length: number): Buffer | null => {
    if (length < 0) {
      return null;
    }
    const read = Buffer.from(out.subarray(at, at + length));
    at += length;
    return read;
  };
  while (at < out.length) {
    const [partition, offset, keyLength, valueLength] = line()
      .toString('latin1')
      .slice(2)
      .split(' ')
      .map(Number);
    const key = bytes(keyLength!);
    const value = bytes(valueLength!);
    line(); // the newline after the value
    const headerLine = line();
    const headers: [string, Buffer][] = [];
    let start = 0;
    while (start < headerLine.length) {
      const comma = headerLine.indexOf(0x2c, start);
      const end = comma < 0 ? headerLine.length : comma;
      const pair = headerLine.subarray(start, end);
      const equals = pair.indexOf(0x3d);
      headers.push([pair.subarray(0, equals).toString('utf8'), Buffer.from(pair.subarray(equals + 1))]);
      start = end + 1;
    }
    records.push({ partition: partition!, offset: offset!, key, value, headers });
  }
  return records;
}
