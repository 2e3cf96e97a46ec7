import { createHash, randomBytes } from 'node:crypto';
import { NotFoundError, type PortLinkCreated, type PortLinkInfo, type PortList } from '@paddock/core';
import type { Principal } from '../auth/token-auth.js';
import type { FileService } from '../files/file-service.js';
import type { SandboxRecord } from '../store/sandbox-store.js';
import { type IngressAddresses, isIngressPort } from './ingress-address.js';
import { parseListeningSockets } from './listening-ports.js';
import type { PortLinkRecord, PortLinkStore } from './port-link-store.js';

/** The query parameter, and the host form's cookie, that carry a public link's secret. */
export const linkParam = 'paddock_link';

/** /proc/net tables read at most: a sandbox can make them large. */
const maxTableBytes = 4 * 1024 * 1024;

export interface PortServiceDeps {
  links: PortLinkStore;
  addresses: IngressAddresses;
  files: FileService;
  now?: () => number;
}

/** A sandbox's ports: the ones listening now, their URLs, and public links to them. */
export class PortService {
  private readonly now: () => number;

  constructor(private readonly deps: PortServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  get addresses(): IngressAddresses {
    return this.deps.addresses;
  }

  async list(sandbox: SandboxRecord): Promise<PortList> {
    const seen = new Map<number, string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      // Only what ingress can open: the egress relay's listeners are Paddock's, not the sandbox's servers.
      for (const socket of parseListeningSockets(await this.readTable(sandbox, table))) {
        if (isIngressPort(socket.port) && !seen.has(socket.port)) seen.set(socket.port, socket.address);
      }
    }
    const ports = [...seen.entries()].sort(([a], [b]) => a - b).map(([port, address]) => ({ ...this.deps.addresses.urls(sandbox.id, port), address }));
    const patterns = this.deps.addresses.urls(sandbox.id, 0);
    return {
      hostPattern: this.deps.addresses.hostPattern(sandbox.id),
      urlPatterns: { host: patterns.hostUrl.replace(/^(\w+:\/\/)0-/, '$1<port>-'), path: patterns.pathUrl.replace(/\/ports\/0\/$/, '/ports/<port>/') },
      ports,
      links: this.links(sandbox.id),
    };
  }

  links(sandboxId: string): PortLinkInfo[] {
    return this.deps.links.live(sandboxId, new Date(this.now()).toISOString()).map(toInfo);
  }

  /** Makes a public link; its secret is in the URLs returned and nowhere else. */
  createLink(sandbox: SandboxRecord, port: number, ttlMs: number, creator: Principal): PortLinkCreated {
    const secret = `pl_${randomBytes(24).toString('base64url')}`;
    const now = this.now();
    const record: PortLinkRecord = {
      id: `lnk-${randomBytes(6).toString('hex')}`,
      sandboxId: sandbox.id,
      tenant: sandbox.owner,
      port,
      creator,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + ttlMs).toISOString(),
      revokedAt: null,
    };
    this.deps.links.insert(record, digestOf(secret));
    const urls = this.deps.addresses.urls(sandbox.id, port, `${linkParam}=${secret}`);
    return { ...toInfo(record), hostUrl: urls.hostUrl, pathUrl: urls.pathUrl };
  }

  revokeLink(sandboxId: string, id: string): void {
    if (!this.deps.links.revoke(sandboxId, id, new Date(this.now()).toISOString())) {
      throw new NotFoundError(`no link ${id} to a port of sandbox ${sandboxId}`, { link: id }, 'port_link_not_found');
    }
  }

  /** The live link a secret is, if it opens this port of this sandbox. */
  resolveLink(secret: string, sandboxId: string, port: number): PortLinkRecord | undefined {
    const link = this.deps.links.byDigest(digestOf(secret));
    if (!link || link.sandboxId !== sandboxId || link.port !== port || link.revokedAt) return undefined;
    return Date.parse(link.expiresAt) > this.now() ? link : undefined;
  }

  sandboxEnded(sandboxId: string): void {
    this.deps.links.removeSandbox(sandboxId);
  }

  private async readTable(sandbox: SandboxRecord, path: string): Promise<string> {
    try {
      const { body } = await this.deps.files.read(sandbox, path, 'root');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > maxTableBytes) {
          body.destroy();
          break;
        }
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks).toString('latin1');
    } catch (err) {
      // No IPv6 in the sandbox: no tcp6 table.
      if (err instanceof NotFoundError) return '';
      throw err;
    }
  }
}

function digestOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function toInfo(r: PortLinkRecord): PortLinkInfo {
  return { id: r.id, port: r.port, createdAt: r.createdAt, expiresAt: r.expiresAt, createdBy: r.creator.id };
}
