/** The egress proxy's bounds, in one place for a reviewer. */
export const egressLimits = {
  /** The relay's header line ("PADDOCK/1 …") may not run longer than this. */
  headerBytes: 256,
  /** Connections one sandbox may hold open through the proxy at once. */
  connectionsPerSandbox: 256,
  /** A connection that sends nothing this long (headers, a hello, a tunnel's bytes) is closed. */
  idleTimeoutMs: 60_000,
  tunnelIdleTimeoutMs: 15 * 60_000,
  /** The relay's header, a tunnel's opening, a redirected TLS hello: each must arrive whole within this. */
  helloTimeoutMs: 10_000,
  /** DNS questions one connection may have waiting for answers. */
  pendingDns: 16,
  /** How long a policy decision is remembered (never across a change of the policies). */
  decisionTtlMs: 1000,
  decisionsKept: 10_000,
  connectTimeoutMs: 30_000,
} as const;
