import * as fc from 'fast-check';
import { RunningApp, startApp } from './support/app';
import { expectErrorShape } from './support/http';

/** What the API must always do, whatever it is sent: answer, never 5xx, errors in the documented shape. */
async function send(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* checked below */
  }
  return { status: response.status, body };
}

function expectSafe({ status, body }: { status: number; body: unknown }): void {
  expect(status).toBeLessThan(500);
  if (status >= 400) {
    expectErrorShape(body as Record<string, unknown>, status);
  }
}

const PATHS = ['/api/messages', '/api/messages/simple', '/api/messages/batch'];
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const messageLike = fc.record(
  {
    id: fc.oneof(fc.string(), jsonValue),
    content: fc.oneof(fc.string({ maxLength: 300 }), jsonValue),
    type: fc.oneof(fc.constantFrom('INFO', 'WARNING', 'ERROR', 'DEBUG', 'info', ''), jsonValue),
    timestamp: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.string(),
      jsonValue,
    ),
    source: fc.oneof(fc.string(), jsonValue),
    metadata: fc.oneof(fc.dictionary(fc.string(), fc.string()), jsonValue),
    extra: jsonValue,
  },
  { requiredKeys: [] },
);

describe('property: generated bad bodies, query strings and headers never get a 5xx', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({
      MESSAGE_MAX_CONTENT_LENGTH: '200',
      BATCH_MAX_MESSAGES: '5',
      HTTP_BODY_LIMIT_BYTES: '8192',
    });
  });
  afterAll(async () => {
    await running.close();
  });

  it('JSON bodies: messages, arrays of them, and arbitrary JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PATHS),
        fc.oneof(messageLike, fc.array(messageLike, { maxLength: 7 }), jsonValue),
        async (path, body) => {
          expectSafe(
            await send(`${running.url}${path}`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
            }),
          );
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('raw bodies with arbitrary content types and bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PATHS),
        fc.constantFrom(
          'application/json',
          'application/json; charset=latin1',
          'text/plain',
          'application/x-www-form-urlencoded',
          'application/vnd.api+json',
          '',
        ),
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
        ),
        async (path, contentType, body) => {
          const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
          expectSafe(await send(`${running.url}${path}`, { method: 'POST', headers, body }));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('query strings and headers', async () => {
    const printable = fc.string({
      unit: fc.constantFrom(...'abcXYZ019 -_.:;,/=&?%+"\'<>{}[]é\t'.split('')),
      maxLength: 40,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PATHS),
        fc.dictionary(fc.constantFrom('content', 'type', 'key', 'id', 'partition', 'x'), printable, {
          maxKeys: 4,
        }),
        fc.dictionary(
          fc.constantFrom('x-request-id', 'x-api-key', 'authorization', 'accept', 'x-custom'),
          printable,
          { maxKeys: 3 },
        ),
        async (path, query, headers) => {
          const qs = new URLSearchParams(query).toString();
          const safeHeaders = Object.fromEntries(
            Object.entries(headers).map(([k, v]) => [k, v.replace(/[^\x20-\x7e]/g, '')]),
          );
          expectSafe(
            await send(`${running.url}${path}${qs ? `?${qs}` : ''}`, {
              method: 'POST',
              headers: safeHeaders,
            }),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
