import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { AppConfig } from './config/app-config';

export const OPENAPI_UI_PATH = 'api/docs';
export const OPENAPI_JSON_PATH = 'api/docs-json';

/**
 * The actuator controllers carry no OpenAPI decorators (they mirror Spring's paths, not our API); their
 * operations get a tag and a one-line summary here so the document still describes every route.
 */
const ACTUATOR_SUMMARIES: Record<string, string> = {
  '/actuator': "Links to the actuator's endpoints (Spring's index, read by Spring Boot Admin)",
  '/actuator/health': 'Health of the service and its components (Spring shape; 200 UP, 503 DOWN)',
  '/actuator/health/liveness': 'Liveness probe: the process only, never Kafka',
  '/actuator/health/readiness': 'Readiness probe: Kafka reachable and the producer connected',
  '/actuator/health/{component}': 'One health component (kafka, feedbackConsumer, …)',
  '/actuator/info': 'Application name, version, build and runtime',
  '/actuator/metrics': 'Metric names, in Micrometer dotted form',
  '/actuator/metrics/{name}': 'One metric: measurements and tags; filter with ?tag=key:value (repeatable)',
  '/actuator/prometheus': 'Every metric in the Prometheus text exposition format',
};

function describeActuator(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith('/actuator')) {
      continue;
    }
    if (item.options) {
      item.options.tags = ['actuator'];
      item.options.summary = "Whether the endpoint exists: 200 with Allow: GET,HEAD,OPTIONS (Spring's probe)";
    }
    for (const operation of [item.get, item.post, item.put, item.delete, item.patch]) {
      if (!operation) {
        continue;
      }
      operation.tags = ['actuator'];
      operation.summary ??= ACTUATOR_SUMMARIES[path];
      // Spring's tag filter is optional and repeatable: `?tag=topic:demo-topic&tag=type:INFO`.
      for (const parameter of operation.parameters ?? []) {
        if ('name' in parameter && parameter.name === 'tag') {
          parameter.required = false;
          parameter.schema = { type: 'array', items: { type: 'string', example: 'topic:demo-topic' } };
          parameter.style = 'form';
          parameter.explode = true;
        }
      }
    }
  }
  const prometheus = document.paths['/actuator/prometheus']?.get;
  if (prometheus) {
    prometheus.responses = {
      200: {
        description: 'Prometheus text exposition (version 0.0.4)',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
    };
  }
}

/** Builds the OpenAPI document from the controllers and DTOs, and serves it at /api/docs (UI) and /api/docs-json. */
export function setupOpenApi(app: INestApplication): OpenAPIObject {
  const config = app.get(AppConfig);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(config.app.name)
      .setDescription(
        'HTTP front door to Apache Kafka. A send answers 200 only after the broker acknowledged it (acks=all); ' +
          'every error has one JSON shape with a stable `code`. API keys are required on /api/** only when the ' +
          'service is configured with API_KEYS or API_KEYS_FILE.',
      )
      .setVersion(config.app.version)
      .addBearerAuth(
        { type: 'http', scheme: 'bearer', description: 'An API key as `Authorization: Bearer <key>`' },
        'bearer',
      )
      .addApiKey(
        { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key as `X-API-Key: <key>`' },
        'x-api-key',
      )
      .addTag('messages', 'Publish messages to the Kafka topic')
      .addTag('events', 'Publish CloudEvents (HTTP protocol binding in, Kafka protocol binding out)')
      .addTag('actuator', 'Spring Boot Actuator-compatible operations endpoints')
      .build(),
  );
  describeActuator(document);
  if (!config.cloudEvents.enabled) {
    delete document.paths['/api/events'];
  }
  SwaggerModule.setup(OPENAPI_UI_PATH, app, document, {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    customSiteTitle: `${config.app.name} API`,
  });
  return document;
}
