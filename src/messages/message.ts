import { randomUUID } from 'node:crypto';
import { ErrorCode, ServiceError } from '../common/errors';
import { MessageDto } from './dto/message.dto';

/** A Message as it goes to Kafka: every field present (null where the caller gave none). */
export interface Message {
  id: string;
  content: string;
  type: string;
  timestamp: string;
  source: string | null;
  metadata: Record<string, string> | null;
}

/** Fills what the caller may leave out: id (UUID), type (INFO), timestamp (now, UTC ISO-8601). */
export function completeMessage(dto: MessageDto, now = new Date()): Message {
  return {
    id: dto.id ?? randomUUID(),
    content: dto.content,
    type: dto.type ?? 'INFO',
    timestamp: dto.timestamp ?? now.toISOString(),
    source: dto.source ?? null,
    metadata: dto.metadata ?? null,
  };
}

/** The seed's MessageSerializer: the Message as UTF-8 JSON, fields in a fixed order. */
export function serializeMessage(message: Message): Buffer {
  try {
    // completeMessage builds every Message with its fields in this order.
    return Buffer.from(JSON.stringify(message), 'utf8');
  } catch (error) {
    throw new ServiceError(ErrorCode.SerializationFailed, `Failed to serialize message ${message.id}`, {
      cause: error,
    });
  }
}
