import { IsDefined, IsOptional, IsString, Length, Matches, Validate } from 'class-validator';
import { ContentLengthRule, MessageTypeRule } from '../message-rules';

/** Query parameters every send endpoint accepts. */
export class SendOptionsQuery {
  /** Record key; defaults to the message id. Same key → same partition → ordered. */
  @IsOptional()
  @IsString()
  @Length(1, 256)
  key?: string;
}

/** POST /api/messages/simple?content=…&type=…&key=… (the seed's simple endpoint). */
export class SimpleMessageQuery extends SendOptionsQuery {
  @IsDefined({ message: 'content is required' })
  @IsString()
  @Matches(/\S/, { message: 'content must not be blank' })
  @Validate(ContentLengthRule)
  content!: string;

  @IsOptional()
  @IsString()
  @Validate(MessageTypeRule)
  type?: string;
}
