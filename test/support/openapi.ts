/** The parts of the OpenAPI document at /api/docs-json that the tests read. */
export interface Schema {
  type?: string;
  required?: string[];
  properties?: Record<string, Schema & { example?: unknown }>;
  items?: Schema;
  $ref?: string;
}
export interface Operation {
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<
    string,
    { content?: Record<string, { schema: Schema; examples?: Record<string, unknown> }> }
  >;
}
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; securitySchemes: Record<string, Record<string, string>> };
}
