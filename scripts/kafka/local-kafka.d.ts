// Types for local-kafka.js, so the TypeScript test setup and benchmarks can drive the local broker.
export interface StartOptions {
  name?: string;
  /** More than 1: a cluster of combined broker+controller nodes (ids 1..N), each with its own ports. */
  nodes?: number;
  port?: number;
  heap?: string;
  quiet?: boolean;
  keepData?: boolean;
  jvmArgs?: string[];
  formatArgs?: string[];
  extra?: { listeners?: string; advertised?: string; protocolMap?: string; properties?: string };
  /** A cluster's followers wait this long per fetch (replica.fetch.wait.max.ms, min.bytes 1 MiB). */
  replicaFetchWaitMs?: number | string;
}
export interface StartedBroker {
  bootstrap: string;
  port: number;
  pid: number;
  dir: string;
  clusterId?: string;
  /** A cluster's nodes (start with nodes > 1). */
  nodes?: ClusterNode[];
  startedInMs: number;
}
export interface ClusterNode {
  id: number;
  port: number;
  pid?: number;
  dir: string;
}
export function start(options?: StartOptions): Promise<StartedBroker>;
export function stop(options?: { name?: string; timeoutMs?: number }): Promise<boolean>;
export function killNow(name?: string): void;
export function killNode(options: { name?: string; id: number }): Promise<void>;
/** SIGSTOP: the node answers nothing, its connections stay open (a node cut off or paused). */
export function freezeNode(options: { name?: string; id: number }): void;
/** SIGCONT: a frozen node runs on. */
export function thawNode(options: { name?: string; id: number }): void;
export function terminateNode(options: { name?: string; id: number; timeoutMs?: number }): Promise<boolean>;
export function restartNode(options: {
  name?: string;
  id: number;
  timeoutMs?: number;
}): Promise<StartedBroker>;
export function clusterNodes(name: string): ClusterNode[];
export function ensureJars(options?: { quiet?: boolean }): string;
export function answers(brokers: string, timeoutMs?: number): Promise<boolean>;
export function waitForMetadata(brokers: string, timeoutMs: number): Promise<unknown>;
export function freePort(): Promise<number>;
export function stateDir(name: string): string;
export function logTail(dir: string, lines?: number): string;
export function kafkaVersion(): string;
export function libDir(): string;
