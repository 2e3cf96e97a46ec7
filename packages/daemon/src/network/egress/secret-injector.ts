import type { OutgoingHttpHeaders } from 'node:http';
import type { SecretStore } from '../../secrets/secret-store.js';
import { hostInPatterns } from '../host-rules.js';
import type { SandboxNetwork } from '../network-service.js';

/**
 * Which connections carry a sandbox's secrets, and their real values in
 * place of the placeholders the sandbox holds, in request headers only.
 */
export class SecretInjector {
  constructor(private readonly secrets: Pick<SecretStore, 'hostsOf' | 'reveal'>) {}

  /** Whether a secret is bound to host:port, so the proxy must open the connection's HTTPS. */
  bindsSecret(network: SandboxNetwork, host: string, port: number): boolean {
    if (!network.leaves || !network.secrets.length) return false;
    return network.secrets.some(({ name }) => {
      // Only the hosts: nothing is decrypted to decide whether to open the connection.
      const hosts = this.secrets.hostsOf(network.tenant, name);
      return !!hosts && hostInPatterns(host, port, hosts);
    });
  }

  /** Puts the real values of the secrets bound to this host where their placeholders are, in headers only. */
  inject(network: SandboxNetwork, host: string, port: number, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    const swaps: Array<[string, string]> = [];
    for (const { name, placeholder } of network.secrets) {
      const secret = this.secrets.reveal(network.tenant, name);
      if (secret && hostInPatterns(host, port, secret.hosts)) swaps.push([placeholder, secret.value]);
    }
    if (!swaps.length) return headers;
    const swap = (value: string) => swaps.reduce((text, [placeholder, real]) => text.replaceAll(placeholder, real), value);
    return Object.fromEntries(
      Object.entries(headers).map(([key, value]) => [key, Array.isArray(value) ? value.map(swap) : typeof value === 'string' ? swap(value) : value]),
    );
  }
}
