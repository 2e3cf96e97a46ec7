import type { Logger } from 'pino';
import type { Principal } from '../auth/token-auth.js';

/** Per-request values middleware puts on the Hono context. */
export interface HttpEnv {
  Variables: {
    principal: Principal;
    requestId: string;
    logger: Logger;
  };
}
