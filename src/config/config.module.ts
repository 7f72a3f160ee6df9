import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';
import { validateEnvironment } from './environment';

/** The one place that reads process.env (and .env, when present). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const root = join(__dirname, '..', '..');
  const dotenv = join(process.cwd(), '.env');
  if (env === process.env && existsSync(dotenv)) {
    // Real environment variables win over .env, as with Spring's property sources.
    process.loadEnvFile(dotenv);
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return new AppConfig(validateEnvironment(env), pkg.version);
}

/** Provides the validated AppConfig to every module. */
@Global()
@Module({
  providers: [{ provide: AppConfig, useFactory: (): AppConfig => loadConfig() }],
  exports: [AppConfig],
})
export class ConfigModule {}
