import { createHash, timingSafeEqual } from 'node:crypto';

/** Tokens kept per sandbox: a sandbox is used by a few clients, not thousands. */
const maxTokensPerSandbox = 16;
/**
 * Tokens kept in all, the least recently given up first. A URL of the
 * one-URL form is checked against all of them (a SHA-256 each) before anyone
 * is authenticated, so this bounds what an unauthenticated request costs.
 */
const maxTokens = 4096;

export type SignedOperation = 'read' | 'write';

/** What a signed file URL carries besides the path. */
export interface SignedRequest {
  path: string;
  operation: SignedOperation;
  /** The `username` query parameter, '' when the URL names none. */
  user: string;
  signature: string;
  /** Unix seconds, when the URL expires. */
  expiration?: number;
}

/**
 * The E2B SDKs sign upload and download URLs with the sandbox's access token:
 * `v1_` + base64(sha256(path:operation:user:token[:expiration])). The token is
 * the key, so checking a signature needs the token itself, which Paddock's
 * token store never keeps (it keeps digests). This ring keeps, in the
 * daemon's memory only, the tokens that were handed out for a sandbox (by
 * create and connect) or that a client used on it; a signature checks against
 * those. After a daemon restart a URL works again once its client has made
 * any call to the sandbox (or connected to it).
 */
export class EnvdKeyRing {
  private readonly bySandbox = new Map<string, string[]>();
  private count = 0;

  remember(sandboxId: string, token: string): void {
    const tokens = this.bySandbox.get(sandboxId) ?? [];
    // Most recently used last, in the map as in each list.
    this.bySandbox.delete(sandboxId);
    this.bySandbox.set(sandboxId, tokens);
    if (tokens.includes(token)) return;
    tokens.push(token);
    this.count++;
    if (tokens.length > maxTokensPerSandbox) {
      tokens.shift();
      this.count--;
    }
    while (this.count > maxTokens) {
      const [oldest, list] = this.bySandbox.entries().next().value as [string, string[]];
      list.shift();
      this.count--;
      if (list.length === 0) this.bySandbox.delete(oldest);
    }
  }

  holds(sandboxId: string, token: string): boolean {
    return this.bySandbox.get(sandboxId)?.includes(token) === true;
  }

  forget(sandboxId: string): void {
    this.count -= this.bySandbox.get(sandboxId)?.length ?? 0;
    this.bySandbox.delete(sandboxId);
  }

  /**
   * The sandbox and token that signed the request, if any did and the URL has
   * not expired. The one-URL form (E2B_SANDBOX_URL) names no sandbox in the
   * URL: then every sandbox's tokens are tried (a SHA-256 each).
   */
  verify(request: SignedRequest, sandboxId: string | undefined, nowMs = Date.now()): { sandboxId: string; token: string } | undefined {
    if (request.expiration !== undefined && request.expiration * 1000 < nowMs) return undefined;
    const candidates: [string, string[]][] = sandboxId !== undefined ? [[sandboxId, this.bySandbox.get(sandboxId) ?? []]] : [...this.bySandbox.entries()];
    const presented = Buffer.from(request.signature);
    for (const [id, tokens] of candidates) {
      for (const token of tokens) {
        const expected = Buffer.from(signature(request, token));
        if (expected.length === presented.length && timingSafeEqual(expected, presented)) return { sandboxId: id, token };
      }
    }
    return undefined;
  }
}

/** The signature E2B's SDKs compute for a file URL. */
export function signature(request: Omit<SignedRequest, 'signature'>, token: string): string {
  const parts = [request.path, request.operation, request.user, token];
  if (request.expiration !== undefined) parts.push(String(request.expiration));
  return `v1_${createHash('sha256').update(parts.join(':')).digest('base64').replace(/=+$/, '')}`;
}
