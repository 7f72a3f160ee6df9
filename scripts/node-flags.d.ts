// Types for node-flags.js, so the TypeScript tests can start the service as it runs.
export const V8_FLAGS: readonly string[];
