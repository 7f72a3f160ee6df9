import { readFileSync } from 'node:fs';

/** File descriptors kept for everything but client connections: Kafka sockets, files, the listener, … */
export const RESERVED_FILE_DESCRIPTORS = 256;

/**
 * The process's soft limit on open files (`ulimit -n`), from /proc/self/limits on Linux; undefined
 * elsewhere, or when it is unlimited or cannot be read. Node has no getrlimit.
 */
export function openFileSoftLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limits, 'utf8')
      .split('\n')
      .find((row) => row.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft !== undefined && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * HTTP_MAX_CONNECTIONS bounded by the open-file limit, less RESERVED_FILE_DESCRIPTORS: past it, accept()
 * would fail with EMFILE and connections would be reset instead of refused with a 503.
 */
export function connectionCap(configured: number, softLimit = openFileSoftLimit()): number {
  if (softLimit === undefined) {
    return configured;
  }
  return Math.max(1, Math.min(configured, softLimit - RESERVED_FILE_DESCRIPTORS));
}
