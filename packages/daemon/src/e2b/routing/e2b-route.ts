import type { IncomingHttpHeaders } from 'node:http';
import { BadRequestError } from '@paddock/core';
import { type IngressAddresses, type IngressTarget, parsePort } from '../../ingress/ingress-address.js';

/** The port E2B's SDKs reach the in-sandbox daemon ("envd") on; Paddock's daemon answers it itself. */
export const envdPort = 49_983;
/** The port of the code-interpreter server; also answered by Paddock's daemon. */
export const codeInterpreterPort = 49_999;

/** The headers a request names its sandbox and port with when it goes to one sandbox URL (E2B_SANDBOX_URL). */
export const sandboxIdHeader = 'e2b-sandbox-id';
export const sandboxPortHeader = 'e2b-sandbox-port';

/**
 * Whether a request on the API's listener is for E2B's envd protocol: it
 * names its sandbox (`E2b-Sandbox-Id`), or it is a signed file URL made for
 * the one-URL form (E2B_SANDBOX_URL), which names none: its signature does.
 */
export function isEnvdRequest(req: { header(name: string): string | undefined; query(name: string): string | undefined; path: string }): boolean {
  return req.header(sandboxIdHeader) !== undefined || (req.path === '/files' && req.query('signature') !== undefined);
}

/**
 * Where an E2B request goes: envd or the code interpreter (served by the
 * daemon), or a server of the sandbox's own (through ingress); undefined when
 * the request is not an E2B one.
 */
export type E2bRoute = { kind: 'envd' | 'code'; sandboxId: string } | { kind: 'port'; target: IngressTarget };

/**
 * Reads both forms the SDKs use: the daemon's own URL with `E2b-Sandbox-Id`
 * and `E2b-Sandbox-Port` headers, and `<port>-<sandbox>.<domain>` hosts (the
 * ingress's host form, whose parsing is reused). The header form is on the
 * API's origin, so a sandbox's own server reached by it gets the path form's
 * treatment (no cookies, a CSP sandbox).
 */
export function e2bRouteOf(headers: IncomingHttpHeaders, url: string, addresses: IngressAddresses): E2bRoute | undefined {
  const id = single(headers[sandboxIdHeader]);
  if (id !== undefined) {
    const port = parsePort(single(headers[sandboxPortHeader]) ?? String(envdPort));
    return routeTo(id, port, url, 'path');
  }
  const host = headers.host;
  if (!host || !addresses.isIngressHost(host)) return undefined;
  const target = addresses.match(host, url);
  if (!target) return undefined;
  if (target.port === envdPort || target.port === codeInterpreterPort) return routeTo(target.sandboxId, target.port, url, 'host');
  return undefined;
}

function routeTo(sandboxId: string, port: number, url: string, form: 'host' | 'path'): E2bRoute {
  if (port === envdPort) return { kind: 'envd', sandboxId };
  if (port === codeInterpreterPort) return { kind: 'code', sandboxId };
  return { kind: 'port', target: { sandboxId, port, form, upstreamPath: url.startsWith('/') ? url : `/${url}`, prefix: '' } };
}

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) {
    if (value.length > 1) throw new BadRequestError('a request names one sandbox and one port', {}, 'bad_request');
    return value[0];
  }
  return value;
}
