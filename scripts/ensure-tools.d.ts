// Types for ensure-tools.js, so the TypeScript test setup can check for (and install) the tools it runs.
export interface Tool {
  program: string;
  pkg: string;
  why: string;
}
export const TOOLS: Tool[];
export const CHROMIUM_PATH: string;
export function missingTools(programs?: string[]): Tool[];
export function ensureTools(options?: { programs?: string[]; log?: (line: string) => void }): string[];
