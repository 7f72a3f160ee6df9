import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp } from './app.setup';
import { AppConfig } from './config/app-config';

async function bootstrap(): Promise<void> {
  const app = configureApp(await NestFactory.create(AppModule, APP_OPTIONS));
  const config = app.get(AppConfig);
  await app.listen(config.http.port);
  Logger.log(`${config.app.name} listening on port ${config.http.port}`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  // Configuration errors name the variable and the reason; print them plainly and exit non-zero.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
