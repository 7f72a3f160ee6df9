// Types for local-kafka.js, so the TypeScript test setup and benchmarks can drive the local broker.
export interface StartOptions {
  name?: string;
  port?: number;
  heap?: string;
  quiet?: boolean;
  keepData?: boolean;
  jvmArgs?: string[];
  formatArgs?: string[];
  extra?: { listeners?: string; advertised?: string; protocolMap?: string; properties?: string };
}
export interface StartedBroker {
  bootstrap: string;
  port: number;
  pid: number;
  dir: string;
  clusterId?: string;
  startedInMs: number;
}
export function start(options?: StartOptions): Promise<StartedBroker>;
export function stop(options?: { name?: string; timeoutMs?: number }): Promise<boolean>;
export function killNow(name?: string): void;
export function ensureJars(options?: { quiet?: boolean }): string;
export function answers(brokers: string, timeoutMs?: number): Promise<boolean>;
export function waitForMetadata(brokers: string, timeoutMs: number): Promise<unknown>;
export function freePort(): Promise<number>;
export function stateDir(name: string): string;
export function logTail(dir: string, lines?: number): string;
export function kafkaVersion(): string;
export function libDir(): string;
