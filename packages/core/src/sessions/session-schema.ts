import { z } from 'zod';
import { RoleSchema } from '../tenants/tenant-schema.js';

/** The cookie a dashboard session travels in; HttpOnly, so no script of any page reads it. */
export const sessionCookieName = 'paddock_session';
/** The header every cookie-authenticated request that changes state carries: a page on another site cannot read the value. */
export const csrfHeaderName = 'X-CSRF-Token';

/** Sign in with a token, or with the one-time code of a login link; one of them, not both. */
export const SessionCreateSchema = z.union([
  z.object({ token: z.string().min(1).max(512).describe('an API token; it is not kept, only which token it is') }).strict(),
  z.object({ code: z.string().min(1).max(128).describe('the one-time code of a login link (paddock dashboard)') }).strict(),
]);
export type SessionCreate = z.infer<typeof SessionCreateSchema>;

export const SessionPrincipalSchema = z.object({
  id: z.string().describe('the token the session was made from'),
  role: RoleSchema,
  tenantId: z.string(),
  owner: z.string().describe('a person, or agent:<name>'),
});

/** A signed-in browser: who it acts as, the CSRF token its writes carry, and when it ends. */
export const SessionSchema = z.object({
  principal: SessionPrincipalSchema,
  csrfToken: z.string().describe(`sent back as the ${csrfHeaderName} header on every request that is not GET or HEAD`),
  expiresAt: z.string().describe('ISO 8601; earlier if the token it came from is revoked or expires'),
});
export type Session = z.infer<typeof SessionSchema>;

export const SessionResponseSchema = z.object({ session: SessionSchema });

/** A one-time sign-in link: the code is in the URL's fragment, which browsers never send to a server. */
export const SessionLinkSchema = z.object({
  url: z.string().describe('<daemon>/#/login?code=<one-time code>'),
  expiresAt: z.string().describe('ISO 8601'),
});
export type SessionLink = z.infer<typeof SessionLinkSchema>;
