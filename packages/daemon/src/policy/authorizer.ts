import type { Principal } from '../auth/token-auth.js';

export type Decision = { effect: 'allow' } | { effect: 'deny'; reason: string } | { effect: 'ask'; reason: string };

export interface AuthorizationRequest {
  principal: Principal;
  /** e.g. sandbox.create, sandbox.exec, sandbox.file.read, template.build */
  action: string;
  /** e.g. sandbox:sb-…, template:base */
  resource: string;
  context: Record<string, unknown>;
}

/**
 * The single policy decision point every API action passes through. The
 * RoleAuthorizer decides by role today; Cedar policies refine it next.
 */
export interface Authorizer {
  authorize(request: AuthorizationRequest): Promise<Decision>;
}
