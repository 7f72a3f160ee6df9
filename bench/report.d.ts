// Types for report.js, so the documentation test can render the benchmark block as `npm run bench` does.
export function renderMarkdown(results: unknown): string;
export function renderSvg(results: unknown): string;
export function replaceBlock(doc: string, markdown: string): string;
export const BLOCK_BEGIN: string;
export const BLOCK_END: string;
