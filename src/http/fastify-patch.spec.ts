// Fastify as patched at install (patches/fastify+5.12.8.patch, applied by patch-package): its default schema
// compilers (@fastify/ajv-compiler and @fastify/fast-json-stringify-compiler, with Ajv: ~2.9 MB of heap) load
// when a route with a schema first needs one instead of with every server. The service declares no Fastify
// schemas (class-validator validates), so it never loads them; a route that has one must behave as before.
import Fastify from 'fastify';
import { execFileSync } from 'node:child_process';

describe('Fastify with its schema compilers loaded on first use', () => {
  it('a server whose routes have no schema does not load them', () => {
    const script = `
      const app = require('fastify')();
      app.post('/plain', async (request) => ({ echoed: request.body }));
      app.inject({ method: 'POST', url: '/plain', payload: { a: 1 } }).then((response) => {
        const loaded = Object.keys(require.cache).filter((file) =>
          /@fastify[\\\\/](ajv-compiler|fast-json-stringify-compiler)[\\\\/]/.test(file));
        process.stdout.write(JSON.stringify({ status: response.statusCode, body: response.json(), loaded }));
      });
    `;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: __dirname, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ status: 200, body: { echoed: { a: 1 } }, loaded: [] });
  });

  it('a route with a schema still validates its body and serializes its response with it', async () => {
    const app = Fastify();
    app.post(
      '/typed',
      {
        schema: {
          body: {
            type: 'object',
            required: ['n'],
            properties: { n: { type: 'integer', minimum: 1 } },
          },
          response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
        },
      },
      (request, reply) => reply.send({ n: (request.body as { n: number }).n, dropped: 'not in the schema' }),
    );
    try {
      const invalid = await app.inject({ method: 'POST', url: '/typed', payload: { n: 0 } });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json()).toMatchObject({ code: 'FST_ERR_VALIDATION' });
      const valid = await app.inject({ method: 'POST', url: '/typed', payload: { n: 2 } });
      expect(valid.statusCode).toBe(200);
      expect(valid.json()).toEqual({ n: 2 });
    } finally {
      await app.close();
    }
  });
});
