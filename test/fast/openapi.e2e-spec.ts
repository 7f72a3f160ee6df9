import SwaggerParser from '@apidevtools/swagger-parser';
import { registeredRoutes } from '../../src/http/http-server';
import { springTemplate } from '../../src/http/request-observer';
import { RunningApp, startApp } from '../support/app';
import { get, post } from '../support/http';
import { OpenApiDocument } from '../support/openapi';

const SEND_ROUTES = ['/api/messages', '/api/messages/simple', '/api/messages/batch'];

// The live service accepting the documented example, and Swagger UI in a browser: test/openapi.e2e-spec.ts.
describe('OpenAPI document at /api/docs-json', () => {
  let running: RunningApp;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    running = await startApp();
    doc = (await get<OpenApiDocument>(`${running.url}/api/docs-json`)).body;
  });
  afterAll(async () => {
    await running?.close();
  });

  it('is a valid OpenAPI 3 document (checked against the OpenAPI schema by swagger-parser)', async () => {
    const validated = await SwaggerParser.validate(structuredClone(doc) as never);

    expect(doc.openapi).toMatch(/^3\./);
    expect(validated.info.title).toBe('kafka-producer-service');
  });

  it('describes every route the service answers, with its method', () => {
    // HEAD routes are Fastify's automatic twins of the GET routes; OpenAPI documents the GETs.
    const routes = registeredRoutes(running.app).filter(
      (route) => !route.path.startsWith('/api/docs') && route.method !== 'HEAD',
    );
    const missing = routes
      .filter((route) => !doc.paths[springTemplate(route.path)]?.[route.method.toLowerCase()])
      .map((route) => `${route.method} ${route.path}`);

    expect(routes.length).toBeGreaterThanOrEqual(11);
    expect(missing).toEqual([]);
  });

  it('declares both API-key schemes and requires one of them on every send route', () => {
    expect(doc.components.securitySchemes).toEqual({
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      'x-api-key': expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
    });
    for (const path of SEND_ROUTES) {
      const security = doc.paths[path]?.post?.security ?? [];
      expect(security).toHaveLength(2);
      expect(security).toEqual(expect.arrayContaining([{ bearer: [] }, { 'x-api-key': [] }]));
    }
  });

  it('documents the error shape with an example per code on every send route', () => {
    const errorBody = doc.components.schemas.ErrorBodyDto;
    expect(errorBody?.required).toEqual(
      expect.arrayContaining(['status', 'statusCode', 'error', 'code', 'message', 'requestId', 'path']),
    );
    for (const path of SEND_ROUTES) {
      const responses = doc.paths[path]!.post!.responses;
      expect(Object.keys(responses).sort()).toEqual([
        '200',
        '400',
        '401',
        '403',
        '409',
        '413',
        '415',
        '422',
        '502',
        '503',
      ]);
      const unavailable = responses['503']!.content!['application/json']!;
      expect(unavailable.schema.$ref).toBe('#/components/schemas/ErrorBodyDto');
      expect(Object.keys(unavailable.examples ?? {}).sort()).toEqual([
        'IDEMPOTENCY_STORE_UNAVAILABLE',
        'KAFKA_AUTHENTICATION_FAILED',
        'KAFKA_OUTCOME_UNKNOWN',
        'KAFKA_UNAVAILABLE',
        'OVERLOADED',
        'SHUTTING_DOWN',
        'TOPIC_NOT_FOUND',
      ]);
    }
  });

  it('documents the Idempotency-Key header on every send route', () => {
    for (const path of SEND_ROUTES) {
      const operation = doc.paths[path]!.post! as { parameters?: { name: string; in: string }[] };
      const parameters = operation.parameters ?? [];
      expect(parameters).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]),
      );
    }
  });

  it('documents the Message body from the DTO: only content required, metadata a string map', () => {
    const message = doc.components.schemas.MessageDto!;

    expect(message.required).toEqual(['content']);
    expect(Object.keys(message.properties ?? {}).sort()).toEqual(
      ['content', 'id', 'metadata', 'source', 'timestamp', 'type'].sort(),
    );
    expect(message.properties?.metadata).toMatchObject({
      type: 'object',
      additionalProperties: { type: 'string' },
    });
    const batchBody =
      doc.paths['/api/messages/batch']!.post!.requestBody!.content['application/json']!.schema;
    expect(batchBody).toEqual({ type: 'array', items: { $ref: '#/components/schemas/MessageDto' } });
  });

  it('answers an invalid body with exactly the documented error fields', async () => {
    const errorBody = doc.components.schemas.ErrorBodyDto!;

    const result = await post(`${running.url}/api/messages`, { type: 'INFO' });

    expect(result.status).toBe(400);
    expect(Object.keys(result.body).sort()).toEqual(Object.keys(errorBody.properties ?? {}).sort());
  });

  it('serves the Swagger UI at /api/docs, its scripts included', async () => {
    const response = await fetch(`${running.url}/api/docs`);
    const html = await response.text();
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    const loaded = await Promise.all(
      scripts.map(async (src) => (await fetch(new URL(src, `${running.url}/api/docs`))).status),
    );

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    expect(scripts).toEqual(expect.arrayContaining([expect.stringContaining('swagger-ui-bundle.js')]));
    expect(loaded.every((status) => status === 200)).toBe(true);
  });
});

describe('OpenAPI document with API keys configured', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ API_KEYS: 'docs-key' });
  });
  afterAll(async () => {
    await running?.close();
  });

  it('stays readable without a key while the API itself asks for one', async () => {
    const docs = await get(`${running.url}/api/docs-json`);
    const send = await post(`${running.url}/api/messages`, { content: 'no key' });

    expect(docs.status).toBe(200);
    expect(send.status).toBe(401);
  });
});
