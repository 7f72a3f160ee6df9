import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthIndicatorResult, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { FeedbackConsumerHealth } from '../feedback/feedback-consumer.health';
import { KafkaClusterHealth, KafkaProducerHealth } from '../kafka/kafka-health';
import { ComponentHealthIndicator, HealthStatus, report } from './health-indicator';
import { HealthReporter } from './health-reporter';

/** A component whose state the test sets, reported through Terminus' HealthIndicatorService. */
@Injectable()
class FakeIndicator implements ComponentHealthIndicator {
  status: HealthStatus = 'UP';
  details: Record<string, unknown> = {};
  behaviour: 'answer' | 'throw' | 'hang' = 'answer';

  constructor(private readonly indicators: HealthIndicatorService) {}

  isHealthy(key: string): Promise<HealthIndicatorResult> {
    if (this.behaviour === 'throw') {
      return Promise.reject(new TypeError('the check broke'));
    }
    if (this.behaviour === 'hang') {
      return new Promise(() => undefined);
    }
    return Promise.resolve(report(this.indicators.check(key), this.status, this.details));
  }
}

describe(HealthReporter.name, () => {
  let sut: HealthReporter;
  let kafka: FakeIndicator;
  let producer: FakeIndicator;
  let feedback: FakeIndicator;

  beforeEach(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
      providers: [
        HealthReporter,
        { provide: AppConfig, useValue: { health: { timeoutMs: 100 }, idempotency: { enabled: true } } },
        { provide: KafkaClusterHealth, useClass: FakeIndicator },
        { provide: KafkaProducerHealth, useClass: FakeIndicator },
        { provide: FeedbackConsumerHealth, useClass: FakeIndicator },
      ],
    }).compile();
    await moduleRef.init();
    sut = moduleRef.get(HealthReporter);
    kafka = moduleRef.get(KafkaClusterHealth);
    producer = moduleRef.get(KafkaProducerHealth);
    feedback = moduleRef.get(FeedbackConsumerHealth);
    kafka.details = { clusterId: 'c-1', brokerCount: 1 };
    producer.details = { connected: true };
    feedback.details = { state: 'RUNNING', group: 'g' };
  });

  it("composes every component's indicator into Spring's root shape, in the components' order", async () => {
    const root = await sut.report('all', { showDetails: true });

    expect(root).toEqual({
      status: 'UP',
      groups: ['liveness', 'readiness'],
      components: {
        kafka: { status: 'UP', details: { clusterId: 'c-1', brokerCount: 1 } },
        kafkaProducer: { status: 'UP', details: { connected: true } },
        feedbackConsumer: { status: 'UP', details: { state: 'RUNNING', group: 'g' } },
      },
    });
    expect(Object.keys(root.components!)).toEqual(['kafka', 'kafkaProducer', 'feedbackConsumer']);
  });

  it('shows the statuses only when details are not to be shown', async () => {
    kafka.status = 'DOWN';
    kafka.details = { error: 'KafkaJSConnectionError: Connection error: connect ECONNREFUSED' };

    const root = await sut.report('all', { showDetails: false });

    expect(root).toEqual({
      status: 'DOWN',
      groups: ['liveness', 'readiness'],
      components: {
        kafka: { status: 'DOWN' },
        kafkaProducer: { status: 'UP' },
        feedbackConsumer: { status: 'UP' },
      },
    });
  });

  it("keeps Spring's statuses Terminus does not know: UNKNOWN counts as up, OUT_OF_SERVICE as down", async () => {
    feedback.status = 'UNKNOWN';
    expect(await sut.report('all', { showDetails: false })).toMatchObject({
      status: 'UP',
      components: { feedbackConsumer: { status: 'UNKNOWN' } },
    });

    feedback.status = 'OUT_OF_SERVICE';
    expect(await sut.report('all', { showDetails: false })).toMatchObject({
      status: 'OUT_OF_SERVICE',
      components: { feedbackConsumer: { status: 'OUT_OF_SERVICE' } },
    });
  });

  it('puts the Kafka components in readiness and the process alone in liveness', async () => {
    feedback.status = 'DOWN';

    expect(await sut.report('readiness', { showDetails: false })).toEqual({
      status: 'UP',
      components: { kafka: { status: 'UP' }, kafkaProducer: { status: 'UP' } },
    });
    kafka.status = 'DOWN';
    expect(await sut.report('liveness', { showDetails: true })).toEqual({
      status: 'UP',
      components: { livenessState: { status: 'UP' } },
    });
  });

  it('reports one component on its own', async () => {
    expect(await sut.report('all', { only: 'kafkaProducer', showDetails: true })).toEqual({
      status: 'UP',
      details: { connected: true },
    });
    expect(sut.componentNames()).toEqual(['kafka', 'kafkaProducer', 'feedbackConsumer']);
  });

  it('reports a check that throws as DOWN with its error, and one that hangs as DOWN after its timeout', async () => {
    feedback.behaviour = 'throw';
    producer.behaviour = 'hang';

    const root = await sut.report('all', { showDetails: true });

    expect(root.status).toBe('DOWN');
    expect(root.components).toMatchObject({
      kafka: { status: 'UP' },
      kafkaProducer: { status: 'DOWN', details: { error: 'no answer within 600 ms' } },
      feedbackConsumer: { status: 'DOWN', details: { error: 'TypeError: the check broke' } },
    });
  });
});
