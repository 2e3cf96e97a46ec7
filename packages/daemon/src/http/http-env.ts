import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Principal } from '../auth/token-auth.js';

/** Per-request values middleware puts on the Hono context. */
export interface HttpEnv {
  Variables: {
    principal: Principal;
    requestId: string;
    logger: Logger;
    /** The request's trace span (a no-op when telemetry is off). */
    span: Span;
  };
}
