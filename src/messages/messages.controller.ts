import { Body, Controller, HttpCode, Post, Query, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Distribution } from '../observability/distribution';
import { ApiErrorResponses, PUBLISH_ERRORS } from '../common/error-body.dto';
import { ErrorCode } from '../common/errors';
import { Metrics } from '../observability/metrics';
import { MessageDto } from './dto/message.dto';
import { SendOptionsQuery, SimpleMessageQuery } from './dto/send-options.query';
import { BatchResultDto, DeliveryDto, SendResultDto } from './dto/send-result.dto';
import { idempotentSendOf } from './idempotency';
import { traceContextOf } from '../http/http-server';
import { routeOf } from '../http/request-checks';
import { MessageBatchPipe } from './message-batch.pipe';
import { ProducerService, SendOptions } from './producer.service';

/** Every failure a send can answer with (the batch adds nothing: it fails as a whole). */
const SEND_ERRORS = [
  ...PUBLISH_ERRORS,
  ErrorCode.SerializationFailed,
  ErrorCode.IdempotencyKeyInUse,
  ErrorCode.IdempotencyKeyMismatch,
  ErrorCode.IdempotencyStoreUnavailable,
];

const single = ([delivery]: DeliveryDto[]): SendResultDto => ({ status: 'success', ...delivery! });
const batch = (results: DeliveryDto[]): BatchResultDto => ({
  status: 'success',
  count: results.length,
  results,
});

/** The seed's KafkaProducerController: publish to the messages topic over HTTP. */
@ApiTags('messages')
@ApiBearerAuth('bearer')
@ApiSecurity('x-api-key')
@ApiErrorResponses(...SEND_ERRORS)
@ApiHeader({
  name: 'Idempotency-Key',
  required: false,
  description:
    'Makes retries safe (draft-ietf-httpapi-idempotency-key-header): a repeat with the same key and request gets the stored answer (header Idempotent-Replayed: true) without producing again; 409 while the first is in flight; 422 for the same key with another request. Keys are remembered IDEMPOTENCY_KEY_TTL_MS (24 h), by the process that saw them or, with IDEMPOTENCY_STORE_URL, by every instance sharing the store (503 IDEMPOTENCY_STORE_UNAVAILABLE when it does not answer).',
  example: '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
})
@Controller('api/messages')
export class MessagesController {
  constructor(
    private readonly producer: ProducerService,
    private readonly metrics: Metrics,
  ) {}

  /** Record key, request id and, with an Idempotency-Key, the key on the records and its late settlement. */
  private options<T>(
    req: FastifyRequest,
    key: string | undefined,
    answer: (deliveries: DeliveryDto[]) => T,
  ): SendOptions {
    const keyed = idempotentSendOf(req);
    return {
      key,
      requestId: req.id,
      traceContext: traceContextOf(req),
      idempotency: keyed && { key: keyed.key, route: routeOf(req).url ?? req.url },
      onSettled: keyed && ((deliveries) => keyed.settle(deliveries && answer(deliveries))),
    };
  }

  /**
   * The seed's @Timed: every call is observed, success or not. A keyed request is answered once its answer
   * is in the Idempotency-Key store, so a retry that follows the answer is replayed by any instance.
   */
  private async timed<D, T>(
    histogram: Distribution,
    req: FastifyRequest,
    send: () => Promise<D>,
    answer: (delivered: D) => T,
  ): Promise<T> {
    const stop = histogram.startTimer();
    try {
      const answered = answer(await send());
      const keyed = idempotentSendOf(req);
      if (keyed) {
        await keyed.stored;
      }
      return answered;
    } finally {
      stop();
    }
  }

  @ApiOperation({
    summary: 'Send one message',
    description:
      'Answers 200 only after the broker acknowledged the record (acks=all). The record key is `key`, or the message id.',
  })
  @ApiOkResponse({ type: SendResultDto, description: 'Acknowledged by Kafka: where the record landed' })
  @Post()
  @HttpCode(200)
  send(
    @Body() message: MessageDto,
    @Query() query: SendOptionsQuery,
    @Req() req: FastifyRequest,
  ): Promise<SendResultDto> {
    return this.timed(
      this.metrics.apiSend,
      req,
      () => this.producer.send(message, this.options(req, query.key, single)),
      (delivery) => single([delivery]),
    );
  }

  @ApiOperation({
    summary: 'Send a text message from query parameters',
    description: "The seed's simple endpoint: no body; `content` is required, `type` defaults to INFO.",
  })
  @ApiOkResponse({ type: SendResultDto, description: 'Acknowledged by Kafka: where the record landed' })
  @Post('simple')
  @HttpCode(200)
  sendSimple(@Query() query: SimpleMessageQuery, @Req() req: FastifyRequest): Promise<SendResultDto> {
    return this.timed(
      this.metrics.apiSendSimple,
      req,
      () =>
        this.producer.send(
          { content: query.content, type: query.type ?? 'INFO' },
          this.options(req, query.key, single),
        ),
      (delivery) => single([delivery]),
    );
  }

  @ApiOperation({
    summary: 'Send several messages in one Kafka transaction',
    description:
      'All or nothing: read_committed consumers see every message or none. At most BATCH_MAX_MESSAGES (default 500). `key`, when given, is the key of every record.',
  })
  @ApiBody({ type: [MessageDto], description: 'A JSON array of messages' })
  @ApiOkResponse({ type: BatchResultDto, description: 'The transaction committed: one delivery per message' })
  @Post('batch')
  @HttpCode(200)
  sendBatch(
    @Body(MessageBatchPipe) messages: MessageDto[],
    @Query() query: SendOptionsQuery,
    @Req() req: FastifyRequest,
  ): Promise<BatchResultDto> {
    return this.timed(
      this.metrics.apiSendBatch,
      req,
      () => this.producer.sendBatch(messages, this.options(req, query.key, batch)),
      batch,
    );
  }
}
