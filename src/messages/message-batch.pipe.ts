import { Injectable, PipeTransform } from '@nestjs/common';
import { MessageDto } from './dto/message.dto';
import { MessageValidator } from './message-validator';

/** Validates POST /api/messages/batch bodies: an array of Messages, bounded in count. */
@Injectable()
export class MessageBatchPipe implements PipeTransform<unknown, MessageDto[]> {
  constructor(private readonly validator: MessageValidator) {}

  transform(value: unknown): MessageDto[] {
    return this.validator.batch(value);
  }
}
