import type { IncomingHttpHeaders } from 'node:http';
import { ConflictError, ForbiddenOriginError, PolicyDeniedError, type SandboxControl, SandboxNotFoundError, UnauthorizedError } from '@paddock/core';
import type { FailedAuthRecorder } from '../audit/failed-auth-recorder.js';
import type { Principal, TokenAuthenticator } from '../auth/token-auth.js';
import { cdpPort } from '../desktop/desktop-service.js';
import { desktopPorts } from '../desktop/desktop-template.js';
import type { Authorizer } from '../policy/authorizer.js';
import type { SandboxService } from '../sandboxes/sandbox-service.js';
import type { SandboxRecord } from '../store/sandbox-store.js';
import { IngressAddresses, type IngressTarget } from './ingress-address.js';
import type { IngressRecords } from './ingress-records.js';
import type { PortLinkRecord } from './port-link-store.js';
import { linkParam, type PortService } from './port-service.js';

/** What a request into a sandbox brings: its headers, URL and the client's address. */
export interface IngressRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  client: string;
}

/** Who may open the connection, and what of the request was theirs (taken out before it reaches the sandbox). */
export interface IngressGrant {
  sandbox: SandboxRecord;
  via: 'token' | 'link';
  /** Recorded as who opened it: the token's id, or `link:<id>`. */
  principal: string;
  /** Whom the policy decides for: the token, or the token that made the link. */
  actor: Principal;
  link?: PortLinkRecord;
  /** The Authorization header was a Paddock token: never sent on into the sandbox. */
  bearerConsumed: boolean;
  /** The link's secret came in the query (the host form then sets a cookie and redirects without it). */
  linkFromQuery: boolean;
}

export interface IngressGateDeps {
  auth: TokenAuthenticator;
  sandboxes: SandboxService;
  ports: PortService;
  authorizer: Authorizer;
  records: IngressRecords;
  failedAuth: FailedAuthRecorder;
  /** Who drives each sandbox (takeovers): the desktop's input ports are the taker's alone. */
  controlOf?: (sandboxId: string) => SandboxControl;
}

/** The live view's ports that take mouse and keyboard: only the person who took the sandbox over opens them. */
export const controlPorts: ReadonlySet<number> = new Set([desktopPorts.vncControl, desktopPorts.novncControl]);

/**
 * Decides whether a request may open a port of a sandbox: a Paddock token of
 * the sandbox's tenant (Authorization header), or a live public link to that
 * very port (its secret in the query, or, on the host form only, in the
 * cookie that query sets). Then the policy decides `sandbox.port.open` with
 * the port and the client in its context. Another tenant's sandbox does not
 * exist for a token (404), as everywhere in the API.
 */
export class IngressGate {
  constructor(private readonly deps: IngressGateDeps) {}

  async admit(target: IngressTarget, req: IngressRequest, kind: 'http' | 'forward'): Promise<IngressGrant> {
    const grant = this.authenticate(target, req);
    const context = { port: target.port, client: req.client, op: kind === 'forward' ? 'forward' : grant.via };
    const decision = await this.deps.authorizer.authorize({
      principal: grant.actor,
      action: 'sandbox.port.open',
      resource: `sandbox:${target.sandboxId}`,
      context,
    });
    if (decision.effect !== 'allow') {
      // A connection cannot wait for a person: asking counts as a refusal here.
      const reason = decision.effect === 'ask' ? `${decision.reason} (ingress cannot wait for an approval)` : decision.reason;
      this.deps.records.record({
        sandbox: grant.sandbox.id,
        tenant: grant.sandbox.owner,
        principal: grant.principal,
        decision: 'deny',
        outcome: 'policy_denied',
        details: { port: target.port, client: req.client, via: kind === 'forward' ? 'forward' : grant.via, form: target.form, reason },
      });
      throw new PolicyDeniedError(reason, { action: 'sandbox.port.open' });
    }
    await this.checkDesktop(target, req, grant, kind);
    return grant;
  }

  /**
   * The desktop's ports ask more than any port: the browser's DevTools is
   * decided as `browser.cdp` and refused to agents while a person holds the
   * sandbox; the live view with input is that person's alone (by token,
   * never a public link).
   */
  private async checkDesktop(target: IngressTarget, req: IngressRequest, grant: IngressGrant, kind: 'http' | 'forward'): Promise<void> {
    const control = this.deps.controlOf?.(target.sandboxId) ?? { mode: 'agent' as const };
    const refuse = (outcome: string, reason: string) => {
      this.deps.records.record({
        sandbox: grant.sandbox.id,
        tenant: grant.sandbox.owner,
        principal: grant.principal,
        decision: 'deny',
        outcome,
        details: { port: target.port, client: req.client, via: kind === 'forward' ? 'forward' : grant.via, form: target.form, reason },
      });
    };
    if (controlPorts.has(target.port)) {
      if (control.mode === 'human' && grant.via === 'token' && control.by === grant.actor.id) return;
      const reason = 'the live view with mouse and keyboard is for the person who took the sandbox over; watch with the view-only one';
      refuse('policy_denied', reason);
      throw new PolicyDeniedError(reason, { port: target.port }, 'desktop_view_only');
    }
    if (target.port !== cdpPort) return;
    if (control.mode === 'human' && control.by !== grant.actor.id) {
      const reason = `${control.by} has taken sandbox ${target.sandboxId} over: the browser waits until they hand it back`;
      refuse('human_in_control', reason);
      throw new ConflictError(reason, { by: control.by }, 'human_in_control');
    }
    const decision = await this.deps.authorizer.authorize({
      principal: grant.actor,
      action: 'browser.cdp',
      resource: `sandbox:${target.sandboxId}`,
      context: { port: target.port, client: req.client, op: 'connect' },
    });
    if (decision.effect !== 'allow') {
      const reason = decision.effect === 'ask' ? `${decision.reason} (ingress cannot wait for an approval)` : decision.reason;
      refuse('policy_denied', reason);
      throw new PolicyDeniedError(reason, { action: 'browser.cdp' });
    }
  }

  private authenticate(target: IngressTarget, req: IngressRequest): IngressGrant {
    const bearer = bearerOf(req.headers);
    const principal = bearer ? this.deps.auth.authenticate(bearer) : undefined;
    if (principal) {
      if (!IngressAddresses.isSandboxId(target.sandboxId)) throw new SandboxNotFoundError(target.sandboxId);
      const sandbox = this.deps.sandboxes.requireRunning(principal.tenant, target.sandboxId);
      return { sandbox, via: 'token', principal: principal.id, actor: principal, bearerConsumed: true, linkFromQuery: false };
    }
    const fromQuery = linkInQuery(req.url);
    // The cookie is the host form's only: there each sandbox port is its own origin. On the
    // path form every sandbox shares the API's origin, and one sandbox's page could spend it.
    const fromCookie = target.form === 'host' && !fromQuery ? linkInCookie(req.headers.cookie) : undefined;
    const secret = fromQuery ?? fromCookie;
    if (!secret) {
      this.deps.failedAuth.record({ requestId: null, method: req.method, path: target.prefix || `host:${req.headers.host ?? ''}`, presented: !!bearer });
      throw new UnauthorizedError(bearer ? 'missing or invalid token' : 'a Paddock token (Authorization: Bearer) or a public link is needed to open this port');
    }
    if (fromCookie) checkBrowserOrigin(req.headers);
    const link = this.deps.ports.resolveLink(secret, target.sandboxId, target.port);
    if (!link) {
      this.deps.failedAuth.record({ requestId: null, method: req.method, path: target.prefix || `host:${req.headers.host ?? ''}`, presented: true });
      throw new UnauthorizedError('this link has expired, was revoked, or is not for this port');
    }
    const sandbox = this.deps.sandboxes.requireRunning(link.tenant, target.sandboxId);
    return { sandbox, via: 'link', principal: `link:${link.id}`, actor: link.creator, link, bearerConsumed: false, linkFromQuery: fromQuery !== undefined };
  }
}

export function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
}

function linkInQuery(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(linkParam) ?? undefined;
}

function linkInCookie(cookie: string | undefined): string | undefined {
  for (const part of (cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === linkParam) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A cookie is sent by the browser whoever asks: only the port's own pages,
 * and the user navigating to it, may spend it. Another origin (a page of
 * another sandbox port on the same domain, a site the user visits) is refused,
 * whether its browser says so by Origin or by Sec-Fetch-Site.
 */
function checkBrowserOrigin(headers: IncomingHttpHeaders): void {
  const origin = headers.origin;
  const own = `http://${headers.host ?? ''}`;
  if (origin && origin !== own && origin !== own.replace(/^http:/, 'https:')) throw new ForbiddenOriginError(origin);
  const site = headers['sec-fetch-site'];
  const mode = headers['sec-fetch-mode'];
  if ((site === 'cross-site' || site === 'same-site') && mode !== 'navigate') throw new ForbiddenOriginError(origin ?? `a ${site} request`);
}
