import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { egressSocketName, type NetworkAttachment, type NetworkProvider, type NetworkRequest } from '@paddock/engine';
import type { EgressProxy } from './egress-proxy.js';
import type { NetworkService } from './network-service.js';
import type { CaMaterial } from './sandbox-ca.js';

/** Where Debian keeps the system CA store (curl, git, Python's ssl, OpenSSL read it). */
const systemStore = '/etc/ssl/certs/ca-certificates.crt';
const caOnly = '/etc/ssl/certs/paddock-egress-ca.pem';

/**
 * The daemon's side of a sandbox's network: the engine's namespace, plus the
 * egress proxy listening on the sandbox's egress socket, plus (when the sandbox
 * holds secrets) trust in its own CA.
 */
export class EgressNetwork implements NetworkProvider {
  constructor(
    private readonly inner: NetworkProvider,
    private readonly proxy: EgressProxy,
    private readonly network: NetworkService,
  ) {}

  async attach(request: NetworkRequest): Promise<NetworkAttachment> {
    if (request.mode === 'none') return this.inner.attach(request);
    const [attachment, ca] = await Promise.all([this.inner.attach(request), this.network.prepareTrust(request.id)]);
    const trust = ca ? await trustFiles(ca, request.layers) : { files: {}, env: {} };
    return {
      ...attachment,
      files: { ...attachment.files, ...trust.files },
      env: { ...attachment.env, ...trust.env },
      // The run folder's parent (the sandbox's scratch space) is out of the sandbox's sight.
      beforeStart: (runDir) => this.proxy.listen(request.id, join(runDir, egressSocketName), dirname(runDir)),
    };
  }

  mountsOf(sandboxId: string): string[] {
    return this.inner.mountsOf?.(sandboxId) ?? [];
  }

  async detach(sandboxId: string, options?: { unmounted?: boolean }): Promise<void> {
    await this.proxy.close(sandboxId);
    await this.inner.detach(sandboxId, options);
  }
}

const maxStoreBytes = 4 * 1024 * 1024;

/**
 * The CA store of one template layer, or '' when it has none that is a plain
 * file. A tenant's snapshot is a layer its sandbox wrote: a symlink, FIFO or
 * device planted there must not make the daemon (root) read a host file into
 * the next sandbox, or block. Layers never change once made, so what lstat
 * sees is what is read.
 */
async function readStoreOf(layer: string): Promise<string> {
  const parts = systemStore.split('/').filter(Boolean);
  let path = layer;
  for (const [i, part] of parts.entries()) {
    path = join(path, part);
    const info = await lstat(path).catch(() => undefined);
    const last = i === parts.length - 1;
    if (!info || (last ? !info.isFile() || info.size > maxStoreBytes : !info.isDirectory())) return '';
  }
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
  if (!file) return '';
  try {
    const info = await file.stat();
    return info.isFile() && info.size <= maxStoreBytes ? await file.readFile('utf8') : '';
  } finally {
    await file.close();
  }
}

/**
 * The template's CA store with the sandbox's CA added, mounted over the
 * system store, and the variables tools with stores of their own read.
 */
async function trustFiles(ca: CaMaterial, layers: string[]): Promise<{ files: Record<string, string>; env: Record<string, string> }> {
  let store = '';
  for (const layer of layers) {
    store = await readStoreOf(layer);
    if (store) break;
  }
  const bundle = `${store.trimEnd()}\n${ca.certPem}`.trimStart();
  return {
    files: { [systemStore]: bundle, [caOnly]: ca.certPem },
    env: {
      SSL_CERT_FILE: systemStore,
      REQUESTS_CA_BUNDLE: systemStore,
      CURL_CA_BUNDLE: systemStore,
      PIP_CERT: systemStore,
      NODE_EXTRA_CA_CERTS: caOnly,
    },
  };
}
