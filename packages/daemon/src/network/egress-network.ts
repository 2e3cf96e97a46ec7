import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { egressSocketName, type NetworkAttachment, type NetworkProvider, type NetworkRequest } from '@paddock/engine';
import type { EgressGateway } from './egress-gateway.js';
import type { NetworkService } from './network-service.js';
import type { CaMaterial } from './sandbox-ca.js';

/** Where Debian keeps the system CA store (curl, git, Python's ssl, OpenSSL read it). */
const systemStore = '/etc/ssl/certs/ca-certificates.crt';
const caOnly = '/etc/ssl/certs/paddock-egress-ca.pem';

/**
 * The daemon's side of a sandbox's network: the engine's namespace, plus the
 * gateway listening on the sandbox's egress socket, plus (when the sandbox
 * holds secrets) trust in its own CA.
 */
export class EgressNetwork implements NetworkProvider {
  constructor(
    private readonly inner: NetworkProvider,
    private readonly gateway: EgressGateway,
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
      beforeStart: (runDir) => this.gateway.listen(request.id, join(runDir, egressSocketName)),
    };
  }

  async detach(sandboxId: string): Promise<void> {
    await this.gateway.close(sandboxId);
    await this.inner.detach(sandboxId);
  }
}

/**
 * The template's CA store with the sandbox's CA added, mounted over the
 * system store, and the variables tools with stores of their own read.
 */
async function trustFiles(ca: CaMaterial, layers: string[]): Promise<{ files: Record<string, string>; env: Record<string, string> }> {
  let store = '';
  for (const layer of layers) {
    store = await readFile(join(layer, systemStore), 'utf8').catch(() => '');
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
