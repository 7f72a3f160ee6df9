import { Controller, Get, UseInterceptors } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ActuatorContentNegotiation } from './actuator-media-type';

export interface InfoReport {
  app: { name: string; version: string; environment: string };
  git?: { commit: { id: string } };
  node: { version: string };
  kafka: { clientId: string };
}

/**
 * Spring Boot Actuator's info endpoint: what is running. Built from configuration that is safe to show;
 * never broker credentials, keys or certificates.
 */
@Controller('actuator/info')
@UseInterceptors(ActuatorContentNegotiation)
export class InfoController {
  private readonly info: InfoReport;

  constructor(config: AppConfig) {
    const { name, version, env, buildCommit } = config.app;
    this.info = {
      app: { name, version, environment: env },
      // Spring's git contributor puts the commit under git.commit.id.
      ...(buildCommit ? { git: { commit: { id: buildCommit } } } : {}),
      node: { version: process.versions.node },
      kafka: { clientId: config.kafka.clientId },
    };
  }

  @Get()
  show(): InfoReport {
    return this.info;
  }
}
