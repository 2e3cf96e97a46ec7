import { isIP } from 'node:net';
import { splitAuthority } from './split-authority.js';

/** How a connection reached the relay inside the sandbox (see paddock-egress.c). */
export type Arrival = 'proxy' | 'http' | 'tls' | 'dns' | 'dns-tcp';
const arrivals = new Set<Arrival>(['proxy', 'http', 'tls', 'dns', 'dns-tcp']);

export interface Origin {
  sandbox: string;
  arrival: Arrival;
  /** The address the sandbox dialled before the redirect, when known. */
  dialled?: { address: string; port: number };
}

/** The relay's first line, "PADDOCK/1 <arrival> <dialled|->"; undefined when it is anything else. */
export function readArrivalHeader(sandbox: string, line: string): Origin | undefined {
  const [version, arrival, dialled, ...rest] = line.split(' ');
  if (version !== 'PADDOCK/1' || !arrivals.has(arrival as Arrival) || rest.length) return undefined;
  const origin: Origin = { sandbox, arrival: arrival as Arrival };
  if (dialled && dialled !== '-') {
    const authority = splitAuthority(dialled);
    if (authority?.port && isIP(authority.host)) origin.dialled = { address: authority.host, port: authority.port };
  }
  return origin;
}
