import { connect } from 'node:net';

/** One HTTP/1.x answer as it came on the wire. */
export interface WireAnswer {
  status: number;
  /** Header names lower-cased; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** The body's bytes as latin1 text (one char per byte). */
  raw: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

/**
 * Writes raw bytes on a fresh connection (in the given pieces, `gapMs` apart), keeps it open, and resolves
 * with every byte that came back once the server closed it, or after `waitMs`.
 */
export function exchange(
  base: string,
  pieces: (string | Buffer)[] | string | Buffer,
  options: { waitMs?: number; gapMs?: number } = {},
): Promise<{ text: string; closed: boolean; ms: number }> {
  const { hostname, port } = new URL(base);
  const { waitMs = 10000, gapMs = 0 } = options;
  const parts = Array.isArray(pieces) ? pieces : [pieces];
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(Number(port), hostname);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false, ms: Date.now() - started });
    }, waitMs);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true, ms: Date.now() - started });
    });
    let i = 0;
    const next = (): void => {
      if (i < parts.length && !socket.destroyed) {
        socket.write(parts[i++]!);
        setTimeout(next, gapMs);
      }
    };
    next();
  });
}

/** Splits the bytes of a connection into its answers (each framed by Content-Length, or to the end). */
export function parseAnswers(text: string): WireAnswer[] {
  const answers: WireAnswer[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/1.')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) {
      break;
    }
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
    const bodyEnd = length === undefined ? rest.length : end + 4 + length;
    const raw = rest.slice(end + 4, bodyEnd);
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(Buffer.from(raw, 'latin1').toString('utf8')) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    answers.push({
      status: Number(/^HTTP\/1\.\d (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0),
      headers,
      raw,
      json,
    });
    rest = rest.slice(bodyEnd);
  }
  return answers;
}

/** A request as bytes: request line, headers (Host and Content-Length added unless given), body. */
export function rawRequestBytes(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body: string | Buffer = '',
  version = 'HTTP/1.1',
): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const all: Record<string, string> = { host: 'localhost', ...headers };
  const named = Object.keys(all).map((name) => name.toLowerCase());
  if (bytes.length > 0 && !named.includes('content-length') && !named.includes('transfer-encoding')) {
    all['content-length'] = String(bytes.length);
  }
  const head = Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return Buffer.concat([Buffer.from(`${method} ${path} ${version}\r\n${head}\r\n`, 'latin1'), bytes]);
}
