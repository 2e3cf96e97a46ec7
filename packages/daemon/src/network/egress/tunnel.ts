import type { IncomingMessage } from 'node:http';
import net, { isIP, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { SpliceHelper, SpliceOutcome } from '../../splice/splice-helper.js';
import { normalizeHost } from '../host-rules.js';
import type { NetworkService, SandboxNetwork } from '../network-service.js';
import { maxHelloBytes, readClientHello } from '../tls-client-hello.js';
import { maxFirstLineBytes, readTunnelOpening, type TunnelOpening } from '../tunnel-opening.js';
import type { Origin } from './arrival-header.js';
import type { EgressDecider, Target } from './egress-decider.js';
import { egressLimits } from './egress-limits.js';
import type { EgressRecords } from './egress-records.js';
import type { SecretInjector } from './secret-injector.js';
import { splitAuthority } from './split-authority.js';
import type { TlsInterceptor } from './tls-interceptor.js';

export interface TunnelDeps {
  network: Pick<NetworkService, 'get'>;
  decider: Pick<EgressDecider, 'decide'>;
  records: EgressRecords;
  injector: Pick<SecretInjector, 'bindsSecret'>;
  interceptor: Pick<TlsInterceptor, 'open'>;
  /** Moves a decided pass-through's bytes outside Node; without it (or when it declines) Node pipes them. */
  splice?: Pick<SpliceHelper, 'tunnel'>;
  logger: Logger;
  connectTimeoutMs?: number;
  /** How long a tunnel's opening (or a redirected hello) may take to arrive whole. */
  openingTimeoutMs?: number;
}

/**
 * Byte streams the proxy joins to an upstream: CONNECT tunnels, and TLS
 * redirected from port 443 (decided by the hello's server name). A stream
 * to a host a secret is bound to goes to the TLS interceptor instead.
 */
export class Tunnel {
  private readonly openingTimeoutMs: number;

  constructor(private readonly deps: TunnelDeps) {
    this.openingTimeoutMs = deps.openingTimeoutMs ?? egressLimits.helloTimeoutMs;
  }

  /** Answers every CONNECT: joined, refused with a status, or 502 when the proxy itself fails on it. */
  async connect(req: IncomingMessage, socket: Socket, head: Buffer, origin: Origin | undefined): Promise<void> {
    try {
      await this.connectTunnel(req, socket, head, origin);
    } catch (err) {
      const asked = splitAuthority(req.url ?? '');
      this.failed(err, origin?.sandbox, 'connect', normalizeHost(asked?.host ?? ''), asked?.port ?? null);
      // Before the tunnel is answered, the client still reads HTTP.
      if (socket.writable && !socket.bytesWritten) socket.end(refusedAnswer(502, 'Bad Gateway', 'the proxy failed on this tunnel'));
      else socket.destroy();
    }
  }

  /** Decides a redirected TLS connection on its hello; closes it, with the refusal recorded, when the proxy itself fails on it. */
  async redirectedTls(origin: Origin, socket: Socket): Promise<void> {
    try {
      await this.redirectedTlsConnection(origin, socket);
    } catch (err) {
      this.failed(err, origin.sandbox, 'tls', origin.dialled?.address ?? '', origin.dialled?.port ?? 443);
      socket.destroy();
    }
  }

  private failed(err: unknown, sandbox: string | undefined, via: 'connect' | 'tls', host: string, port: number | null = null): void {
    this.deps.logger.error({ err, sandbox, host }, 'the egress proxy failed on a tunnel');
    if (sandbox) this.deps.records.refuse(sandbox, this.deps.network.get(sandbox), via, host, port, 'the proxy failed on this tunnel');
  }

  private async connectTunnel(req: IncomingMessage, socket: Socket, head: Buffer, origin: Origin | undefined): Promise<void> {
    // Nothing may flow (and be lost) while the decision is made.
    socket.pause();
    if (origin?.arrival !== 'proxy') return void socket.destroy();
    const authority = splitAuthority(req.url ?? '');
    if (!authority?.port) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const verdict = await this.deps.decider.decide(origin.sandbox, authority.host, authority.port);
    if (!verdict.ok) {
      this.deps.records.refuse(origin.sandbox, verdict.network, 'connect', normalizeHost(authority.host), authority.port, verdict.reason);
      socket.end(refusedAnswer(403, 'Forbidden', verdict.reason));
      return;
    }
    if (head.length) socket.unshift(head);
    if (this.deps.injector.bindsSecret(verdict.network, verdict.target.host, verdict.target.port)) {
      socket.write(connectionEstablished);
      return this.deps.interceptor.open(verdict.network, 'connect', verdict.target, socket);
    }
    // Established only once the upstream is: a refused or unreachable one is a 502 the client can read.
    this.passThrough(verdict.network, 'connect', verdict.target, socket, undefined);
  }

  private async redirectedTlsConnection(origin: Origin, socket: Socket): Promise<void> {
    const hello = await readOpening(socket, readHelloBytes, this.openingTimeoutMs);
    const network = this.deps.network.get(origin.sandbox);
    const port = origin.dialled?.port ?? 443;
    if ('cut' in hello && !hello.bytes.length && hello.cut === 'end') return void socket.destroy();
    if ('cut' in hello || hello.reading.kind !== 'hello' || !hello.reading.serverName) {
      const reason =
        'cut' in hello
          ? hello.cut === 'deadline'
            ? `no complete TLS hello within ${this.openingTimeoutMs / 1000} s`
            : 'the connection ended before a complete TLS hello'
          : hello.reading.kind === 'hello'
            ? 'TLS without a server name (SNI): the proxy cannot tell where it goes'
            : 'not TLS';
      this.deps.records.refuse(origin.sandbox, network, 'tls', origin.dialled?.address ?? '', port, reason);
      return void socket.destroy();
    }
    const host = hello.reading.serverName;
    const verdict = await this.deps.decider.decide(origin.sandbox, host, port, origin.dialled);
    if (!verdict.ok) {
      this.deps.records.refuse(origin.sandbox, verdict.network, 'tls', normalizeHost(host), port, verdict.reason);
      return void socket.destroy();
    }
    socket.unshift(hello.bytes);
    if (this.deps.injector.bindsSecret(verdict.network, verdict.target.host, verdict.target.port)) {
      return this.deps.interceptor.open(verdict.network, 'tls', verdict.target, socket);
    }
    this.passThrough(verdict.network, 'tls', verdict.target, socket, hello.reading.serverName);
  }

  /**
   * Joins the sandbox's socket to the upstream address. Through CONNECT, the
   * first bytes are checked before they leave: a TLS hello naming another
   * server than the tunnel's host is refused (domain fronting).
   */
  private passThrough(network: SandboxNetwork, via: 'connect' | 'tls', target: Target, socket: Socket, checkedName: string | undefined): void {
    const upstream = net.connect({ host: target.address, port: target.port, noDelay: true });
    upstream.setTimeout(this.deps.connectTimeoutMs ?? egressLimits.connectTimeoutMs, () => upstream.destroy());
    upstream.once('connect', () => upstream.setTimeout(0));
    socket.setNoDelay(true);
    socket.setTimeout(egressLimits.tunnelIdleTimeoutMs);
    const done = this.deps.records.allowed(network, via, target, false);
    const state: JoiningTunnel['state'] = { finished: false, connected: false };
    const finish = (err?: NodeJS.ErrnoException) => {
      if (state.finished) return;
      state.finished = true;
      if (via === 'connect' && !state.connected && socket.writable) {
        // The client still waits for the CONNECT's answer: say why instead of closing on it.
        const why = err?.code ? `the upstream ${target.host}:${target.port} could not be reached (${err.code})` : 'the upstream closed the connection';
        socket.end(refusedAnswer(502, 'Bad Gateway', why));
      } else socket.destroy();
      upstream.destroy();
      // Bytes the helper moved are known once it has let go of the sockets (closing them here cancels its job).
      const record = (moved: SpliceOutcome | undefined) => done(upstream.bytesWritten + (moved?.aToB ?? 0), upstream.bytesRead + (moved?.bToA ?? 0));
      if (state.spliced) void state.spliced.then(record);
      else record(undefined);
    };
    const join = () => {
      const pipe = () => {
        socket.setTimeout(egressLimits.tunnelIdleTimeoutMs);
        socket.pipe(upstream);
        upstream.pipe(socket);
        socket.resume();
      };
      if (!this.deps.splice) return pipe();
      // Decided and checked: from here the tunnel's bytes are only moved, which the helper does without Node.
      // A hand-over that fails outright leaves the sockets in no state to pipe: the tunnel ends.
      state.spliced = this.deps.splice
        .tunnel(socket, upstream, egressLimits.tunnelIdleTimeoutMs)
        .catch(() => ({ aToB: 0, bToA: 0, outcome: 'error' as const }));
      void state.spliced.then((moved) => {
        if (moved) return finish();
        state.spliced = undefined;
        if (!state.finished) pipe();
      });
    };
    upstream.on('error', finish);
    socket.on('error', () => finish());
    upstream.on('close', () => finish());
    socket.on('close', () => finish());
    if (via === 'connect') {
      upstream.once('connect', () => {
        state.connected = true;
        socket.write(connectionEstablished);
        this.checkTunnel({ network, via, target, socket, upstream, state }, isIP(target.host) !== 0, join, finish);
      });
      return;
    }
    state.connected = true;
    this.checkTunnel({ network, via, target, socket, upstream, state }, checkedName !== undefined || isIP(target.host) !== 0, join, finish);
  }

  /** Joins at once what needs no look (an address, a hello already read), else reads the tunnel's first bytes and refuses fronting. */
  private checkTunnel(tunnel: JoiningTunnel, joinNow: boolean, join: () => void, finish: () => void): void {
    if (joinNow) {
      join();
      return;
    }
    const { network, via, target, socket, upstream, state } = tunnel;
    void readOpening(socket, readTunnelOpening, this.openingTimeoutMs).then((opening) => {
      // Closed meanwhile (and recorded), or ended having sent nothing: nothing to decide.
      if (state.finished || ('cut' in opening && opening.cut === 'end' && !opening.bytes.length)) return finish();
      if (opening.bytes.length) socket.unshift(opening.bytes);
      const refusal = tunnelRefusal(opening, target.host, this.openingTimeoutMs);
      if (refusal) {
        state.finished = true;
        socket.destroy();
        upstream.destroy();
        this.deps.records.refuse(network.id, network, via, target.host, target.port, refusal);
        return;
      }
      join();
    });
  }
}

/** A tunnel being joined: its two sockets and whether it has ended (or reached its upstream). */
interface JoiningTunnel {
  network: SandboxNetwork;
  via: 'connect' | 'tls';
  target: Target;
  socket: Socket;
  upstream: net.Socket;
  /** spliced: the helper's job, while it holds the tunnel (its outcome says what it moved). */
  state: { finished: boolean; connected: boolean; spliced?: Promise<SpliceOutcome | undefined> };
}

const connectionEstablished = 'HTTP/1.1 200 Connection Established\r\n\r\n';

/** The answer to a CONNECT the proxy refuses, with its reason. */
function refusedAnswer(status: number, phrase: string, reason: string): string {
  const body = `paddock egress: ${reason}\n`;
  return `HTTP/1.1 ${status} ${phrase}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Paddock-Refused: 1\r\nConnection: close\r\n\r\n${body}`;
}

type Opening<T> = { bytes: Buffer; reading: T } | { bytes: Buffer; cut: 'deadline' | 'end' };

/**
 * What a CONNECT tunnel to a named host may carry: TLS naming that host, or
 * a protocol that is neither TLS nor HTTP (SSH …). Plain HTTP would name its
 * own host in a header the tunnel never reads; TLS naming no server, or
 * another one, would be fronting.
 */
function tunnelRefusal(opening: Opening<TunnelOpening>, host: string, timeoutMs: number): string | undefined {
  if ('cut' in opening) {
    return opening.cut === 'deadline'
      ? `the tunnel did not say what it carries within ${timeoutMs / 1000} s (a complete TLS hello or first line)`
      : 'the tunnel ended before it said what it carries';
  }
  const { reading } = opening;
  if (reading.kind === 'tls') {
    if (!reading.serverName) return `TLS names no server; the tunnel was opened to ${host}`;
    if (normalizeHost(reading.serverName) !== host) return `TLS names ${reading.serverName}, the tunnel was opened to ${host}`;
    return undefined;
  }
  if (reading.kind === 'http') return 'plain HTTP inside a CONNECT tunnel: send it to the proxy as a request';
  if (reading.kind === 'too-long') return `the tunnel's first line runs past ${maxFirstLineBytes} bytes without ending`;
  return undefined;
}

/**
 * Reads from a paused socket until `read` can tell what the connection
 * carries, however the sender splits its bytes; the bytes come back to
 * unshift. A sender that never lets it tell is cut at a deadline.
 */
function readOpening<T extends { kind: string }>(socket: Socket, read: (bytes: Buffer) => T, timeoutMs: number): Promise<Opening<T>> {
  return new Promise((resolve) => {
    let bytes = Buffer.alloc(0);
    const timer = setTimeout(() => settle({ bytes, cut: 'deadline' }), timeoutMs);
    const settle = (value: Opening<T>) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.pause();
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      const reading = read(bytes);
      if (reading.kind !== 'incomplete') settle({ bytes, reading });
    };
    const onEnd = () => settle({ bytes, cut: 'end' });
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.resume();
  });
}

/** A ClientHello, or not TLS once the bytes say so or grow past any hello. */
function readHelloBytes(bytes: Buffer): ReturnType<typeof readClientHello> {
  const reading = readClientHello(bytes);
  return reading.kind === 'incomplete' && bytes.length > maxHelloBytes ? { kind: 'not-tls' } : reading;
}
