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

/**
 * Fills what the caller may leave out: id (UUID), type (INFO), timestamp (`now`, else the current time, as
 * UTC ISO-8601; a batch formats its time once for all its messages).
 */
export function completeMessage(dto: MessageDto, now?: string): Message {
  return {
    id: dto.id ?? randomUUID(),
    content: dto.content,
    type: dto.type ?? 'INFO',
    timestamp: dto.timestamp ?? now ?? new Date().toISOString(),
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
