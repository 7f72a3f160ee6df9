import { FieldError } from '../common/errors';

/** Why a feedback record went to the dead-letter topic; also the `error` label of the DLT counter. */
export enum FeedbackFailureKind {
  /** The value is missing or is not JSON: retrying cannot help. */
  NotJson = 'NotJson',
  /** JSON, but not a valid Message under the API's rules: retrying cannot help. */
  InvalidMessage = 'InvalidMessage',
  /** The handler threw on every attempt. */
  HandlerFailed = 'HandlerFailed',
}

/** A record the handler refuses for good: it goes to the dead-letter topic without further attempts. */
export class FeedbackRejectedError extends Error {
  constructor(
    readonly kind: FeedbackFailureKind.NotJson | FeedbackFailureKind.InvalidMessage,
    message: string,
    readonly details: FieldError[] = [],
  ) {
    super(message);
    this.name = 'FeedbackRejectedError';
  }
}
