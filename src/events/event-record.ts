import { AppConfig } from '../config/app-config';
import { Publication } from '../messages/producer.service';
import { IncomingEvent } from './cloud-event';

/** messages_sent_total / messages_failed_total `type` label of events (event types are unbounded). */
export const EVENT_METRIC_TYPE = 'CLOUDEVENT';

/**
 * An event as a Kafka record, per the CloudEvents Kafka protocol binding in binary content mode: every
 * attribute but datacontenttype as a `ce_<name>` header, datacontenttype as `content-type`, the data as
 * the value (none without data), the `partitionkey` extension as the key (else the event id), to the
 * topic its type is routed to (CLOUDEVENTS_TYPE_TOPICS) or CLOUDEVENTS_TOPIC.
 */
export function eventPublication(event: IncomingEvent, config: AppConfig): Publication {
  const headers: Record<string, string> = {};
  for (const [name, value] of event.attributes) {
    if (name === 'datacontenttype') {
      headers['content-type'] = value;
    } else {
      headers[`ce_${name}`] = value;
    }
  }
  const id = event.attributes.get('id')!;
  const type = event.attributes.get('type')!;
  const { topic, typeTopics } = config.cloudEvents;
  return {
    id,
    type: EVENT_METRIC_TYPE,
    topic: (typeTopics.get(type) ?? topic).name,
    key: event.attributes.get('partitionkey') ?? id,
    value: event.data,
    headers,
  };
}
