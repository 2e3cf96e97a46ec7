import { randomBytes, webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

import { isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';

/** A sandbox's own certificate authority: the sandbox trusts the certificate, only the daemon holds the key. */
export interface CaMaterial {
  certPem: string;
  keyPem: string;
}

type X509 = typeof import('@peculiar/x509');

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const dayMs = 86_400_000;
const leafLifetimeMs = 7 * dayMs;
const leafRenewAfterMs = dayMs;
const maxLeavesPerSandbox = 256;

let x509Module: Promise<X509> | undefined;

/**
 * The X.509 library loads on first use (~60 ms, some MiB): a daemon whose
 * sandboxes hold no secrets never needs it.
 */
function loadX509(): Promise<X509> {
  x509Module ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return x509Module;
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f; // positive
  return bytes.toString('hex');
}

function toPem(der: ArrayBuffer, label: string): string {
  const base64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${base64.trimEnd()}\n-----END ${label}-----\n`;
}

function withNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

function fromPem(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

export async function createSandboxCa(sandboxId: string): Promise<CaMaterial> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=Paddock egress CA for ${sandboxId}, O=Paddock`,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 365 * dayMs),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyDer = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: withNewline(cert.toString('pem')), keyPem: toPem(keyDer, 'PRIVATE KEY') };
}

interface Leaf {
  context: SecureContext;
  madeAt: number;
}

/**
 * Server certificates for the hosts whose HTTPS the proxy opens, signed by
 * one sandbox's CA, made on first use and kept a day.
 */
export class LeafCertificates {
  private readonly leaves = new Map<string, Promise<Leaf>>();
  private signer:
    | Promise<{ x509: X509; caPem: string; caCert: InstanceType<X509['X509Certificate']>; caKey: CryptoKey; leafKeys: CryptoKeyPair; leafKeyPem: string }>
    | undefined;

  /** @param ca the CA, or its loading from disk (a sandbox adopted after a restart) */
  constructor(private readonly ca: CaMaterial | Promise<CaMaterial>) {}

  async contextFor(host: string): Promise<SecureContext> {
    let leaf = this.leaves.get(host);
    if (leaf && Date.now() - (await leaf).madeAt > leafRenewAfterMs) leaf = undefined;
    if (!leaf) {
      if (this.leaves.size >= maxLeavesPerSandbox) this.leaves.delete(this.leaves.keys().next().value as string);
      leaf = this.makeLeaf(host);
      this.leaves.set(host, leaf);
      leaf.catch(() => this.leaves.delete(host));
    }
    return (await leaf).context;
  }

  private async makeLeaf(host: string): Promise<Leaf> {
    const { x509, caPem, caCert, caKey, leafKeys, leafKeyPem } = await this.loadSigner();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${host}`,
      issuer: caCert.subject,
      notBefore: new Date(now - 3_600_000),
      notAfter: new Date(Math.min(now + leafLifetimeMs, caCert.notAfter.getTime())),
      publicKey: leafKeys.publicKey,
      signingKey: caKey,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: isIP(host) ? 'ip' : 'dns', value: host }]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ],
    });
    const context = createSecureContext({ key: leafKeyPem, cert: withNewline(cert.toString('pem')) + withNewline(caPem) });
    return { context, madeAt: now };
  }

  private loadSigner() {
    this.signer ??= (async () => {
      const [x509, ca] = await Promise.all([loadX509(), this.ca]);
      const caCert = new x509.X509Certificate(ca.certPem);
      const caKey = await webcrypto.subtle.importKey('pkcs8', fromPem(ca.keyPem), algorithm, false, ['sign']);
      // One key for every leaf of this sandbox: made once, never leaves the daemon.
      const leafKeys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
      const leafKeyPem = toPem(await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey), 'PRIVATE KEY');
      return { x509, caPem: ca.certPem, caCert, caKey, leafKeys, leafKeyPem };
    })();
    return this.signer;
  }
}
