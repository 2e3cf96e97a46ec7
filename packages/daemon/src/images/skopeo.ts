import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadRequestError, NotFoundError, type PaddockError, RuntimeError, UnavailableError } from '@paddock/core';
import { runHostCommand } from '@paddock/engine';

export interface RegistryLogin {
  username: string;
  password: string;
}

export interface SkopeoCopyRequest {
  /** skopeo's source, transport and all: docker://…, docker-archive:…, oci-archive:… */
  source: string;
  /** The OCI layout folder to write; skopeo verifies each blob's digest as it copies. */
  layoutDir: string;
  /** A private folder of this copy: skopeo's HOME and its credentials file. */
  workDir: string;
  /** For a registry: its host (as in the reference), whether it may be plain HTTP, and the login to present. */
  registry?: { host: string; insecure: boolean; login?: RegistryLogin };
  signal?: AbortSignal;
  timeoutMs: number;
}

/**
 * Copies an image into an OCI layout folder with skopeo (the registry
 * protocol, its auth and the archive formats are skopeo's), for linux/amd64.
 * skopeo sees only the credentials given here: its environment names a
 * private HOME and credentials file, so the host's own logins never apply.
 */
export async function skopeoCopy(request: SkopeoCopyRequest): Promise<void> {
  const tls = request.registry ? [`--src-tls-verify=${!request.registry.insecure}`] : [];
  await runSkopeo(request, (authFile) => ['copy', '--quiet', '--authfile', authFile, ...tls, request.source, `oci:${request.layoutDir}:image`]);
}

/**
 * The manifest a registry serves for a reference, as it is (an image
 * manifest or an index of them), without fetching any layer: what the
 * image claims to be, checked before anything large is downloaded.
 */
export async function skopeoRawManifest(request: Omit<SkopeoCopyRequest, 'layoutDir'>): Promise<unknown> {
  const tls = request.registry ? [`--tls-verify=${!request.registry.insecure}`] : [];
  const stdout = await runSkopeo(request, (authFile) => ['inspect', '--raw', '--authfile', authFile, ...tls, request.source]);
  try {
    return JSON.parse(stdout);
  } catch {
    throw new BadRequestError(`the registry's manifest for ${request.source} is not JSON`, { source: request.source }, 'invalid_image');
  }
}

/**
 * A manifest or (with `config`) an image config exactly as the registry
 * serves it, for the caller to check against its digest; nothing large is
 * fetched. Not UTF-8 text: its digest will not match, and the caller copies
 * the image in full instead.
 */
export async function skopeoRawDocument(request: Omit<SkopeoCopyRequest, 'layoutDir'>, config: boolean): Promise<Buffer> {
  const tls = request.registry ? [`--tls-verify=${!request.registry.insecure}`] : [];
  const stdout = await runSkopeo(request, (authFile) => ['inspect', ...(config ? ['--config'] : []), '--raw', '--authfile', authFile, ...tls, request.source]);
  return Buffer.from(stdout, 'utf8');
}

async function runSkopeo(request: Omit<SkopeoCopyRequest, 'layoutDir'>, args: (authFile: string) => string[]): Promise<string> {
  const authFile = join(request.workDir, 'auth.json');
  const login = request.registry?.login;
  const auths = login && request.registry ? { [request.registry.host]: { auth: Buffer.from(`${login.username}:${login.password}`).toString('base64') } } : {};
  await writeFile(authFile, JSON.stringify({ auths }), { mode: 0o600 });
  try {
    const { stdout } = await runHostCommand('skopeo', ['--override-os', 'linux', '--override-arch', 'amd64', ...args(authFile)], {
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      env: { PATH: process.env.PATH, HOME: request.workDir, XDG_RUNTIME_DIR: request.workDir, TMPDIR: request.workDir },
    });
    return stdout;
  } catch (err) {
    request.signal?.throwIfAborted();
    throw explain(err, request);
  } finally {
    // The password is on disk only while skopeo runs.
    await rm(authFile, { force: true });
  }
}

/** skopeo's failure as the caller's error: what went wrong, in a stable code; its stderr in details. */
function explain(err: unknown, request: Omit<SkopeoCopyRequest, 'layoutDir'>): PaddockError {
  const stderr = err instanceof RuntimeError ? String(err.details.stderr ?? '') : String(err);
  const last =
    stderr
      .trim()
      .split('\n')
      .at(-1)
      ?.replace(/^time="[^"]*" level=\w+ msg="?/, '') ?? '';
  const host = request.registry?.host;
  // An archive's path is a folder of the daemon's state: the caller is told of "the archive", not where it lies.
  const archivePath = host ? undefined : request.source.slice(request.source.indexOf(':') + 1);
  const reason = (archivePath ? last.replaceAll(archivePath, 'the archive') : last).replaceAll(request.workDir, '…').slice(0, 500);
  const details = { source: host ? request.source : 'archive', reason };
  if (!host) return new BadRequestError(`the archive is not an image skopeo can read: ${reason}`, details, 'invalid_image');
  // Phrases, not status numbers: digests in skopeo's messages are full of 401s and 404s.
  if (/\bunauthorized\b|authentication required|invalid username\/password|requested access to the resource is denied/i.test(stderr)) {
    const how = request.registry?.login ? 'refused the stored login' : 'asks for a login (paddock registry login)';
    return new BadRequestError(`registry ${host} ${how}`, details, 'registry_auth_failed');
  }
  if (/manifest unknown|name unknown|\bnot found\b/i.test(stderr))
    return new NotFoundError(`registry ${host} has no image ${request.source.slice('docker://'.length)}`, details, 'image_not_found');
  if (/HTTP response to HTTPS client|x509|tls:|certificate/i.test(stderr) && !request.registry?.insecure) {
    return new BadRequestError(
      `registry ${host} is not reachable over verified HTTPS, and the operator has not allowed it as insecure (paddockd --insecure-registry ${host})`,
      details,
      'insecure_registry',
    );
  }
  if (/no image found in manifest list|choosing image instance/i.test(stderr)) {
    return new BadRequestError(`the image has no linux/amd64 variant`, details, 'invalid_image');
  }
  return new UnavailableError(`registry ${host} could not be reached or failed: ${reason}`, details, 'registry_unreachable');
}

/** The registry a reference names: its first part when that looks like a host, else Docker Hub. */
export function registryHostOf(reference: string): string {
  const first = reference.split('/')[0] ?? '';
  const isHost = reference.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  return isHost ? first : 'docker.io';
}
