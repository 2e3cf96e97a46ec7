import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ConflictError,
  type HandbackResponse,
  ownerKindOf,
  PolicyDeniedError,
  type Recording,
  type SandboxControl,
  type TakeoverRequest,
  type TakeoverResponse,
} from '@paddock/core';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.js';
import type { Principal } from '../auth/token-auth.js';
import type { ManagedProcess, ProcessManager } from '../commands/process-manager.js';
import type { SandboxRecord } from '../store/sandbox-store.js';
import { CastRecorder } from './cast-recorder.js';
import { FrameRecorder, listFrames } from './frame-recorder.js';
import type { RecordingStore } from './recording-store.js';

type HumanControl = Extract<SandboxControl, { mode: 'human' }>;

interface Held {
  control: HumanControl;
  tenant: string;
  proc: ManagedProcess;
  recorder: CastRecorder;
  sandbox: SandboxRecord;
  /** The screen's frames, once the desktop is held (see recordScreen). */
  frames?: Promise<FrameRecorder | undefined>;
  unsubscribe: () => void;
  ending?: Promise<HandbackResponse>;
}

export interface TakeoverServiceOptions {
  processes: ProcessManager;
  recordings: RecordingStore;
  audit: AuditLog;
  /** Where casts are kept: <dir>/<sandbox>/<session>.cast. */
  dir: string;
  logger: Logger;
  /** A screenshot of a sandbox's desktop: with it, a desktop held by a person is recorded as frames too. */
  screenshot?: (sandbox: SandboxRecord, signal: AbortSignal) => Promise<Buffer>;
  /** How often a held desktop is shot (default 1000 ms). */
  frameIntervalMs?: number;
  /** Sandboxes of this template are desktops: their frames are kept from the takeover on (others' from the first live view with input). */
  desktopTemplate?: string;
}

/** How long a killed terminal may take to report its exit before the handback goes on without it. */
const exitWaitMs = 5000;

/**
 * A person taking a sandbox over from its agent: a terminal (PTY) process
 * that only they may type into, recorded as asciicast, and a mark on the
 * sandbox every reader sees (agents included). One taker at a time; a
 * handback, the terminal's own exit, or the sandbox's end gives it back.
 */
export class TakeoverService {
  private readonly held = new Map<string, Held>();
  private readonly starting = new Set<string>();
  private readonly listeners = new Set<(sandboxId: string) => void>();

  constructor(private readonly o: TakeoverServiceOptions) {}

  controlOf(sandboxId: string): SandboxControl {
    return this.held.get(sandboxId)?.control ?? { mode: 'agent' };
  }

  /** Called with a sandbox's id whenever its control changes (live events push the sandbox again). */
  onChange(listener: (sandboxId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Throws unless the principal is a person and nobody else holds the sandbox. */
  check(principal: Principal, sandboxId: string): void {
    if (ownerKindOf(principal.owner) === 'agent') {
      throw new PolicyDeniedError(
        `only a person takes a sandbox over; ${principal.id} acts for ${principal.owner}`,
        { owner: principal.owner },
        'takeover_refused',
      );
    }
    const held = this.held.get(sandboxId);
    if ((held && held.control.by !== principal.id) || this.starting.has(sandboxId)) {
      const by = held?.control.by ?? null;
      throw new ConflictError(`sandbox ${sandboxId} is taken over${by ? ` by ${by}` : ''}; they hand it back first`, { by }, 'already_taken_over');
    }
  }

  async take(principal: Principal, sandbox: SandboxRecord, request: TakeoverRequest): Promise<TakeoverResponse> {
    this.check(principal, sandbox.id);
    const mine = this.held.get(sandbox.id);
    if (mine) return { control: mine.control, pid: mine.control.pid };
    this.starting.add(sandbox.id);
    try {
      return await this.start(principal, sandbox, request);
    } finally {
      this.starting.delete(sandbox.id);
    }
  }

  private async start(principal: Principal, sandbox: SandboxRecord, request: TakeoverRequest): Promise<TakeoverResponse> {
    const cols = request.cols ?? 80;
    const rows = request.rows ?? 24;
    const sessionId = `tko-${randomBytes(8).toString('hex')}`;
    const folder = join(this.o.dir, sandbox.id);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const recorder = await CastRecorder.create(join(folder, `${sessionId}.cast`), {
      width: cols,
      height: rows,
      title: `${sandbox.id} taken over by ${principal.id}`,
    });
    let proc: ManagedProcess;
    try {
      proc = await this.o.processes.start(sandbox, { cmd: request.cmd ?? ['/bin/bash', '-l'], pty: { cols, rows } }, { keepStdinOpen: true });
    } catch (err) {
      await recorder.close();
      await rm(join(folder, `${sessionId}.cast`), { force: true });
      throw err;
    }
    const control: HumanControl = { mode: 'human', by: principal.id, since: new Date().toISOString(), sessionId, pid: proc.pid };
    this.o.recordings.start({ sessionId, sandboxId: sandbox.id, tenant: principal.tenant, by: principal.id, startedAt: control.since });
    const held: Held = { control, tenant: principal.tenant, proc, recorder, sandbox, unsubscribe: () => {} };
    this.held.set(sandbox.id, held);
    if (sandbox.template === this.o.desktopTemplate) this.recordScreen(sandbox.id);
    // Output is recorded as it comes; the terminal's exit (the person typed `exit`, or the sandbox ended) hands back.
    held.unsubscribe = proc.subscribe({
      push: (e) => {
        if (e.type === 'exit') void this.release(sandbox.id, 'terminal exited');
        else recorder.output(e.data);
        return true;
      },
    });
    this.notify(sandbox.id);
    return { control, pid: proc.pid };
  }

  /**
   * Keeps the held sandbox's screen as frames until the handback (once per
   * takeover; nothing when no takeover is under way or the daemon has no
   * screenshots).
   */
  recordScreen(sandboxId: string): void {
    const held = this.held.get(sandboxId);
    const shoot = this.o.screenshot;
    if (!held || !shoot || held.frames || held.ending) return;
    held.frames = FrameRecorder.start({
      folder: this.framesFolder(sandboxId, held.control.sessionId),
      shoot: (signal) => shoot(held.sandbox, signal),
      intervalMs: this.o.frameIntervalMs ?? 1000,
      onStop: (why) => this.o.logger.info({ sandbox: sandboxId, session: held.control.sessionId, why }, 'the takeover’s frames stopped'),
    }).catch((err: unknown) => {
      this.o.logger.warn({ err, sandbox: sandboxId }, 'the takeover’s frames could not start');
      return undefined;
    });
  }

  /** The takeover whose terminal this process is, if any. */
  terminal(sandboxId: string, pid: number): HumanControl | undefined {
    const held = this.held.get(sandboxId);
    return held?.control.pid === pid ? held.control : undefined;
  }

  /** Throws unless the principal may write to, signal or resize this process (see mayWrite). */
  requireWriter(principal: Principal, sandboxId: string, pid: number): void {
    const control = this.terminal(sandboxId, pid);
    if (control && control.by !== principal.id) {
      throw new PolicyDeniedError(
        `process ${pid} is the terminal of ${control.by}'s takeover: only they type into it (attach with ?mode=view to watch)`,
        { by: control.by, pid },
        'terminal_read_only',
      );
    }
  }

  /** The taker typed: recorded, in order with the output. */
  recordInput(sandboxId: string, pid: number, data: Buffer): void {
    const held = this.held.get(sandboxId);
    if (held?.control.pid === pid) held.recorder.input(data);
  }

  /** Hands back (the taker, or an admin): kills the terminal, closes the recording. */
  async handBack(principal: Principal, sandboxId: string): Promise<HandbackResponse> {
    const held = this.held.get(sandboxId);
    if (!held) throw new ConflictError(`sandbox ${sandboxId} is not taken over`, {}, 'not_taken_over');
    if (held.control.by !== principal.id && principal.role !== 'admin') {
      throw new ConflictError(
        `sandbox ${sandboxId} is taken over by ${held.control.by}; only they or an admin hand it back`,
        { by: held.control.by },
        'already_taken_over',
      );
    }
    return this.release(sandboxId, undefined);
  }

  /**
   * Ends a takeover once, whoever asks first. `reason` set: it ended by
   * itself (the terminal exited, the sandbox ended), and is audited here; a
   * handback through the API is audited by its route.
   */
  private release(sandboxId: string, reason: string | undefined): Promise<HandbackResponse> {
    const held = this.held.get(sandboxId);
    if (!held) return Promise.reject(new ConflictError(`sandbox ${sandboxId} is not taken over`, {}, 'not_taken_over'));
    held.ending ??= this.end(sandboxId, held, reason);
    return held.ending;
  }

  private async end(sandboxId: string, held: Held, reason: string | undefined): Promise<HandbackResponse> {
    const { control } = held;
    held.proc.signal('SIGKILL');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([held.proc.done, new Promise((resolve) => (timer = setTimeout(resolve, exitWaitMs)))]);
    clearTimeout(timer);
    held.unsubscribe();
    const { bytes, sha256 } = await held.recorder.close();
    const frames = await (await held.frames)?.close();
    const kept = frames ? { frames: frames.count, framesBytes: frames.bytes } : {};
    this.o.recordings.end(control.sessionId, new Date().toISOString(), bytes, sha256);
    this.held.delete(sandboxId);
    if (reason) {
      this.o.audit.append({
        requestId: null,
        principal: control.by,
        tenant: held.tenant,
        action: 'sandbox.handback',
        resource: `sandbox:${sandboxId}`,
        decision: 'allow',
        outcome: 'ok',
        details: { sessionId: control.sessionId, bytes, sha256, ...kept, reason },
      });
    }
    this.notify(sandboxId);
    return { control: { mode: 'agent' }, recording: { sessionId: control.sessionId, bytes, sha256, ...kept } };
  }

  async recordings(sandboxId: string): Promise<Recording[]> {
    const list = this.o.recordings.list(sandboxId);
    return Promise.all(
      list.map(async (r) => {
        const frames = (await listFrames(this.framesFolder(sandboxId, r.sessionId))).length;
        return frames > 0 ? { ...r, frames } : r;
      }),
    );
  }

  recording(sandboxId: string, sessionId: string): Recording | undefined {
    return this.o.recordings.get(sandboxId, sessionId);
  }

  /** Where a recording's cast is; the caller has found the recording (its ids are checked) first. */
  castPath(sandboxId: string, sessionId: string): string {
    return join(this.o.dir, sandboxId, `${sessionId}.cast`);
  }

  /** Where a recording's frames are (PNG files); the caller has found the recording first. */
  framesFolder(sandboxId: string, sessionId: string): string {
    return join(this.o.dir, sandboxId, `${sessionId}.frames`);
  }

  get frameIntervalMs(): number {
    return this.o.frameIntervalMs ?? 1000;
  }

  /**
   * Closes the recordings a daemon that stopped abruptly left open (a clean
   * stop hands every takeover back): each gets its size and digest as the
   * file holds them, and a handback record saying why.
   */
  async closeLeftOpen(): Promise<void> {
    for (const r of this.o.recordings.open()) {
      const cast = await readFile(this.castPath(r.sandboxId, r.sessionId)).catch(() => Buffer.alloc(0));
      const sha256 = createHash('sha256').update(cast).digest('hex');
      this.o.recordings.end(r.sessionId, new Date().toISOString(), cast.length, sha256);
      this.o.audit.append({
        requestId: null,
        principal: r.by,
        tenant: r.tenant,
        action: 'sandbox.handback',
        resource: `sandbox:${r.sandboxId}`,
        decision: 'allow',
        outcome: 'ok',
        details: { sessionId: r.sessionId, bytes: cast.length, sha256, reason: 'daemon restarted' },
      });
    }
  }

  /** Hands back everything (the daemon stops): terminals killed, recordings closed. */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.held.keys()].map((id) => this.release(id, 'daemon stopped').catch(() => undefined)));
  }

  private notify(sandboxId: string): void {
    for (const listener of this.listeners) {
      try {
        listener(sandboxId);
      } catch (err) {
        this.o.logger.warn({ err, sandbox: sandboxId }, 'a takeover listener failed');
      }
    }
  }
}
