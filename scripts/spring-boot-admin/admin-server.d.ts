// Types for admin-server.js, so the TypeScript end-to-end test can start the Spring Boot Admin server.
export function ensureBuilt(options?: { quiet?: boolean }): { classpath: string; mainClass: string };
export function adminVersion(): string;
