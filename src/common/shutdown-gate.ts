import { Injectable } from '@nestjs/common';

/**
 * Closed when shutdown begins (step 2 in src/lifecycle.ts). From then on /api/** requests that still arrive
 * on kept-alive connections get 503 SHUTTING_DOWN and every response asks the client to close its connection, so the
 * HTTP server can finish draining instead of serving a keep-alive load forever (see installHttpLayer).
 */
@Injectable()
export class ShutdownGate {
  private closed = false;

  close(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
