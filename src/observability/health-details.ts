import { Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { AppConfig } from '../config/app-config';
import { ApiKeys } from '../http/api-keys';

/**
 * Who sees the components' details in /actuator/health (cluster id, topics, group, Kafka's error text):
 * HEALTH_SHOW_DETAILS, as Spring's management.endpoint.health.show-details. `when-authorized` (the
 * default) shows them to a request that carries a valid API key; with no API keys configured nobody is
 * authorized, so nobody sees them (Spring without security: never). Everyone else gets the statuses only.
 * Health itself stays open either way: a missing or wrong key is not refused here.
 */
@Injectable()
export class HealthDetailsPolicy {
  private readonly apiKeys: ApiKeys;

  constructor(private readonly config: AppConfig) {
    this.apiKeys = new ApiKeys(config);
  }

  showsTo(headers: IncomingHttpHeaders): boolean {
    switch (this.config.health.showDetails) {
      case 'always':
        return true;
      case 'never':
        return false;
      case 'when-authorized':
        return this.authorized(headers);
    }
  }

  private authorized(headers: IncomingHttpHeaders): boolean {
    if (this.config.security.apiKeys.length === 0) {
      return false;
    }
    try {
      this.apiKeys.check(headers);
      return true;
    } catch {
      return false;
    }
  }
}
