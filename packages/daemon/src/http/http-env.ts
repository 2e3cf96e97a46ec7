import type { Span } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Principal } from '../auth/token-auth.js';
import type { ActiveSession } from '../sessions/session-service.js';

/** Per-request values middleware puts on the Hono context. */
export interface HttpEnv {
  Variables: {
    principal: Principal;
    /** The digest of the token the request acts as (a session's own token when signed in by cookie). */
    tokenDigest: string;
    /** Set when the session cookie, not a bearer token, authenticated the request. */
    session: ActiveSession | undefined;
    requestId: string;
    logger: Logger;
    /** The request's trace span (a no-op when telemetry is off). */
    span: Span;
    /** Aborted when the client goes away before its answer (see clientSignal: cheaper than c.get('signal')). */
    signal: AbortSignal;
  };
}
