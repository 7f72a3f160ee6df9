import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiErrorResponses, PUBLISH_ERRORS } from '../common/error-body.dto';
import { ErrorCode, ServiceError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { traceContextOf } from '../http/http-server';
import { RAW_BODY } from '../http/raw-body';
import { BatchResultDto, SendResultDto } from '../messages/dto/send-result.dto';
import { ProducerService, SendOptions } from '../messages/producer.service';
import { batchedEvents, binaryEvent, structuredEvent } from './cloud-event';
import { eventPublication } from './event-record';

const STRUCTURED = /^application\/cloudevents\+json\s*(?:;|$)/i;
const BATCH = /^application\/cloudevents-batch\+json\s*(?:;|$)/i;
/** Another event format (application/cloudevents+avro, …): only the JSON one is supported. */
const OTHER_FORMAT = /^application\/cloudevents[+-]/i;

const ceHeader = (name: string, description: string, example: string): MethodDecorator =>
  ApiHeader({ name: `ce-${name}`, required: false, description, example });

/** CloudEvents in, Kafka records out: the HTTP protocol binding's three modes onto the Kafka binding. */
@ApiTags('events')
@ApiBearerAuth('bearer')
@ApiSecurity('x-api-key')
@ApiExtraModels(SendResultDto, BatchResultDto)
@Controller('api/events')
export class EventsController {
  constructor(
    private readonly producer: ProducerService,
    private readonly config: AppConfig,
  ) {}

  @ApiOperation({
    summary: 'Publish CloudEvents (binary, structured or batched mode)',
    description:
      'CloudEvents 1.0 over HTTP: binary mode (`ce-*` headers, the body as the data, its Content-Type as datacontenttype), ' +
      'structured mode (`application/cloudevents+json`) or batched mode (`application/cloudevents-batch+json`, ' +
      'all or nothing in one Kafka transaction, at most BATCH_MAX_MESSAGES events). Each event becomes one Kafka ' +
      'record per the CloudEvents Kafka protocol binding in binary content mode: `ce_<attribute>` headers, ' +
      '`content-type` = datacontenttype, the data as the value, the `partitionkey` extension (else the id) as the key; ' +
      'to the topic CLOUDEVENTS_TYPE_TOPICS routes its type to, else CLOUDEVENTS_TOPIC. Answers 200 only after the ' +
      'broker acknowledged (acks=all); `messageId` is the event id. 404 when CLOUDEVENTS_ENABLED=false.',
  })
  @ApiConsumes('application/cloudevents+json', 'application/cloudevents-batch+json', '*/*')
  @ceHeader('specversion', 'Binary mode: the spec version, 1.0', '1.0')
  @ceHeader('id', 'Binary mode: the event id (required)', 'A234-1234-1234')
  @ceHeader('source', 'Binary mode: the event source, a URI-reference (required)', '/mycontext')
  @ceHeader('type', 'Binary mode: the event type (required)', 'com.example.someevent')
  @ApiBody({
    description:
      'Binary mode: the event data, any media type. Structured mode: one event in the JSON event format. ' +
      'Batched mode: a JSON array of such events.',
    schema: {
      oneOf: [
        {
          type: 'object',
          required: ['specversion', 'id', 'source', 'type'],
          properties: {
            specversion: { type: 'string', enum: ['1.0'] },
            id: { type: 'string', minLength: 1 },
            source: { type: 'string', format: 'uri-reference', minLength: 1 },
            type: { type: 'string', minLength: 1 },
            datacontenttype: { type: 'string' },
            dataschema: { type: 'string', format: 'uri' },
            subject: { type: 'string', minLength: 1 },
            time: { type: 'string', format: 'date-time' },
            data: {},
            data_base64: { type: 'string', format: 'byte' },
          },
          additionalProperties: { oneOf: [{ type: 'string' }, { type: 'integer' }, { type: 'boolean' }] },
        },
        { type: 'array', items: { type: 'object' } },
        { type: 'string', format: 'binary' },
      ],
    },
  })
  @ApiOkResponse({
    description: 'Acknowledged by Kafka: one delivery (binary, structured) or all of them (batched)',
    schema: { oneOf: [{ $ref: getSchemaPath(SendResultDto) }, { $ref: getSchemaPath(BatchResultDto) }] },
  })
  @ApiErrorResponses(...PUBLISH_ERRORS)
  @RouteConfig(RAW_BODY)
  @Post()
  @HttpCode(200)
  async publish(@Body() body: unknown, @Req() req: FastifyRequest): Promise<SendResultDto | BatchResultDto> {
    const options: SendOptions = { requestId: req.id, traceContext: traceContextOf(req) };
    const contentType = req.headers['content-type'] ?? '';
    if (BATCH.test(contentType)) {
      const events = batchedEvents(body, this.config.message.maxBatchMessages);
      const results = await this.producer.publishAtomically(
        events.map((event) => eventPublication(event, this.config)),
        options,
      );
      return { status: 'success', count: results.length, results };
    }
    if (STRUCTURED.test(contentType)) {
      const event = structuredEvent(body);
      return {
        status: 'success',
        ...(await this.producer.publish(eventPublication(event, this.config), options)),
      };
    }
    if (OTHER_FORMAT.test(contentType)) {
      throw new ServiceError(
        ErrorCode.UnsupportedMediaType,
        'Only the JSON event format is supported: application/cloudevents+json or application/cloudevents-batch+json',
      );
    }
    const event = binaryEvent(req.headers, body as Buffer | undefined);
    return {
      status: 'success',
      ...(await this.producer.publish(eventPublication(event, this.config), options)),
    };
  }
}
