import { Body, Controller, HttpCode, Post, Query, Req } from '@nestjs/common';
import { Request } from 'express';
import { Histogram } from 'prom-client';
import { Metrics } from '../observability/metrics';
import { requestIdOf } from '../observability/request-id.middleware';
import { MessageDto } from './dto/message.dto';
import { SendOptionsQuery, SimpleMessageQuery } from './dto/send-options.query';
import { BatchResultDto, SendResultDto } from './dto/send-result.dto';
import { MessageBatchPipe } from './message-batch.pipe';
import { ProducerService } from './producer.service';

/** The seed's KafkaProducerController: publish to the messages topic over HTTP. */
@Controller('api/messages')
export class MessagesController {
  constructor(
    private readonly producer: ProducerService,
    private readonly metrics: Metrics,
  ) {}

  /** The seed's @Timed: every call is observed, success or not. */
  private async timed<T>(histogram: Histogram, fn: () => Promise<T>): Promise<T> {
    const stop = histogram.startTimer();
    try {
      return await fn();
    } finally {
      stop();
    }
  }

  @Post()
  @HttpCode(200)
  send(
    @Body() message: MessageDto,
    @Query() query: SendOptionsQuery,
    @Req() req: Request,
  ): Promise<SendResultDto> {
    return this.timed(this.metrics.apiSend, async () => ({
      status: 'success' as const,
      ...(await this.producer.send(message, { key: query.key, requestId: requestIdOf(req) })),
    }));
  }

  @Post('simple')
  @HttpCode(200)
  sendSimple(@Query() query: SimpleMessageQuery, @Req() req: Request): Promise<SendResultDto> {
    return this.timed(this.metrics.apiSendSimple, async () => ({
      status: 'success' as const,
      ...(await this.producer.send(
        { content: query.content, type: query.type ?? 'INFO' },
        { key: query.key, requestId: requestIdOf(req) },
      )),
    }));
  }

  @Post('batch')
  @HttpCode(200)
  sendBatch(
    @Body(MessageBatchPipe) messages: MessageDto[],
    @Query() query: SendOptionsQuery,
    @Req() req: Request,
  ): Promise<BatchResultDto> {
    return this.timed(this.metrics.apiSendBatch, async () => {
      const results = await this.producer.sendBatch(messages, {
        key: query.key,
        requestId: requestIdOf(req),
      });
      return { status: 'success' as const, count: results.length, results };
    });
  }
}
