import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type ServiceImpl } from '@connectrpc/connect';
import { ConflictError, type FileEntry, PaddockError } from '@paddock/core';
import type { Services } from '../../http/services.js';
import type { SandboxRecord } from '../../store/sandbox-store.js';
import { absolutePath, callOf, connectCall, type EnvdCall, runningSandbox } from './envd-call.js';
import { EventQueue, keepAliveMs } from './event-queue.js';
import {
  type EntryInfo,
  EntryInfoSchema,
  EventType,
  type Filesystem,
  type FilesystemEvent,
  FilesystemEventSchema,
  FileType,
  type WatchDirResponse,
  WatchDirResponseSchema,
} from './gen/filesystem/filesystem_pb.js';

/** Entries a listing (all its depths) or a watched tree may hold: a hostile sandbox can make millions. */
const maxEntries = 10_000;
/** How deep a listing or a recursive watch goes at most. */
const maxDepth = 32;
/** How often a watch looks at the directory again. */
const pollMs = 250;
/** Events a polling watcher keeps between two reads, and watchers a sandbox may have. */
const maxWatcherEvents = 1000;
const maxWatchers = 64;
/** A polling watcher nobody has read for this long is dropped. */
const watcherIdleMs = 10 * 60_000;

/**
 * envd's filesystem service over Paddock's file service: stat, list and
 * watch are `sandbox.file.read`, make-dir, move and remove
 * `sandbox.file.write`, with the context the native routes give the policy
 * (the absolute path, and an `op`).
 */
export function filesystemService(s: Services): Partial<ServiceImpl<typeof Filesystem>> {
  const watchers = new Map<string, PollingWatcher>();
  const read = <T>(call: EnvdCall, path: string, op: string, run: (sandbox: SandboxRecord, at: string) => Promise<T>) =>
    governed(s, call, 'sandbox.file.read', path, op, run);
  const write = <T>(call: EnvdCall, path: string, op: string, run: (sandbox: SandboxRecord, at: string) => Promise<T>, extra: Record<string, unknown> = {}) =>
    governed(s, call, 'sandbox.file.write', path, op, run, extra);

  return {
    async stat(req, ctx) {
      const call = callOf(ctx);
      const entry = await read(call, req.path, 'stat', (sb, at) => s.files.stat(sb, at, call.user));
      return { entry: entryInfo(entry) };
    },

    async makeDir(req, ctx) {
      const call = callOf(ctx);
      const entry = await write(call, req.path, 'mkdir', async (sb, at) => {
        const existing = await s.files.stat(sb, at, call.user).catch((err: unknown) => {
          if (err instanceof PaddockError && err.status === 404) return undefined;
          throw err;
        });
        if (existing) throw new ConflictError(`${at} already exists`, { path: at }, 'file_exists');
        return s.files.mkdir(sb, at, call.user);
      });
      return { entry: entryInfo(entry) };
    },

    async move(req, ctx) {
      const call = callOf(ctx);
      const sandbox = await connectCall(async () => runningSandbox(s, call));
      const to = await connectCall(async () => absolutePath(req.destination, call.user, sandbox));
      const entry = await write(call, req.source, 'rename', (sb, at) => s.files.rename(sb, at, to, call.user), { to });
      return { entry: entryInfo(entry) };
    },

    async listDir(req, ctx) {
      const call = callOf(ctx);
      const depth = Math.min(Math.max(req.depth || 1, 1), maxDepth);
      const entries = await read(call, req.path, 'list', (sb, at) => walk(s, sb, at, depth, call.user));
      return { entries: entries.map(entryInfo) };
    },

    async remove(req, ctx) {
      const call = callOf(ctx);
      await write(call, req.path, 'remove', (sb, at) => s.files.remove(sb, at, true, call.user));
      return {};
    },

    async *watchDir(req, ctx): AsyncGenerator<WatchDirResponse> {
      const call = callOf(ctx);
      const root = await read(call, req.path, 'watch', async (sb, at) => {
        const entry = await s.files.stat(sb, at, call.user);
        if (entry.type !== 'dir') throw new ConnectError(`${at} is not a directory`, Code.InvalidArgument);
        return at;
      });
      const queue = new EventQueue<FilesystemEvent | 'keepalive'>({
        keepAlive: { ms: keepAliveMs(ctx.requestHeader.get('keepalive-ping-interval')) || 50_000, event: () => 'keepalive' },
      });
      const poller = new TreePoller(
        s,
        call,
        root,
        req.recursive,
        (e) => queue.push(e),
        (err) => queue.fail(err),
      );
      await connectCall(() => poller.start());
      try {
        yield create(WatchDirResponseSchema, { event: { case: 'start', value: {} } });
        for await (const e of queue.drain(ctx.signal)) {
          if (e === 'keepalive') yield create(WatchDirResponseSchema, { event: { case: 'keepalive', value: {} } });
          else yield create(WatchDirResponseSchema, { event: { case: 'filesystem', value: e } });
        }
      } catch (err) {
        throw toWatchError(err);
      } finally {
        poller.stop();
      }
    },

    async createWatcher(req, ctx) {
      const call = callOf(ctx);
      const root = await read(call, req.path, 'watch', async (_sb, at) => at);
      for (const [id, w] of watchers) if (w.idleSince() > watcherIdleMs) removeWatcher(watchers, id);
      const mine = [...watchers.values()].filter((w) => w.sandboxId === call.sandboxId).length;
      if (mine >= maxWatchers) throw new ConnectError(`a sandbox has at most ${maxWatchers} watchers`, Code.ResourceExhausted);
      const watcher = new PollingWatcher(call.sandboxId, call.c.get('principal').tenant);
      watcher.poller = new TreePoller(
        s,
        call,
        root,
        req.recursive,
        (e) => watcher.add(e),
        () => watcher.poller?.stop(),
      );
      await connectCall(() => (watcher.poller as TreePoller).start());
      const id = randomUUID();
      watchers.set(id, watcher);
      return { watcherId: id };
    },

    async getWatcherEvents(req, ctx) {
      const call = callOf(ctx);
      const watcher = ownWatcher(watchers, req.watcherId, call);
      return { events: watcher.take() };
    },

    async removeWatcher(req, ctx) {
      const call = callOf(ctx);
      ownWatcher(watchers, req.watcherId, call);
      removeWatcher(watchers, req.watcherId);
      return {};
    },
  };
}

async function governed<T>(
  s: Services,
  call: EnvdCall,
  action: 'sandbox.file.read' | 'sandbox.file.write',
  path: string,
  op: string,
  run: (sandbox: SandboxRecord, at: string) => Promise<T>,
  extra: Record<string, unknown> = {},
): Promise<T> {
  return connectCall(async () => {
    const at = absolutePath(path, call.user, runningSandbox(s, call));
    return s.govern(
      call.c,
      { action, resource: `sandbox:${call.sandboxId}`, context: { path: at, ...extra, op }, precheck: () => runningSandbox(s, call) },
      () => run(runningSandbox(s, call), at),
    );
  });
}

/** A directory's entries down to `depth` levels (1: its own), breadth first, at most maxEntries. */
async function walk(s: Services, sandbox: SandboxRecord, dir: string, depth: number, user: string): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  let level = [dir];
  for (let d = 0; d < depth && level.length > 0; d++) {
    const next: string[] = [];
    for (const at of level) {
      const entries = await s.files.list(sandbox, at, user).catch((err: unknown) => {
        // A subdirectory that went away, or that the user may not read, is skipped below the top.
        if (d > 0 && err instanceof PaddockError) return [];
        throw err;
      });
      for (const e of entries) {
        if (out.length >= maxEntries) return out;
        out.push(e);
        if (e.type === 'dir') next.push(e.path);
      }
    }
    level = next;
  }
  return out;
}

export function entryInfo(e: FileEntry): EntryInfo {
  return create(EntryInfoSchema, {
    name: e.name,
    type: e.type === 'dir' ? FileType.DIRECTORY : e.type === 'symlink' ? FileType.SYMLINK : e.type === 'file' ? FileType.FILE : FileType.UNSPECIFIED,
    path: e.path,
    size: BigInt(e.size),
    mode: e.mode,
    permissions: permissions(e),
    owner: ownerName(e.uid),
    group: ownerName(e.gid),
    modifiedTime: timestampFromMs(Date.parse(e.mtime)),
    ...(e.symlinkTarget !== null ? { symlinkTarget: e.symlinkTarget } : {}),
  });
}

function ownerName(id: number): string {
  return id === 0 ? 'root' : id === 1000 ? 'user' : String(id);
}

/** `drwxr-xr-x`, as `ls -l` writes it (and envd reports it). */
function permissions(e: FileEntry): string {
  const kind = e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-';
  const bits = 'rwxrwxrwx';
  let out = kind;
  for (let i = 0; i < 9; i++) out += e.mode & (1 << (8 - i)) ? bits[i] : '-';
  return out;
}

interface Seen {
  type: FileEntry['type'];
  size: number;
  mtime: string;
  mode: number;
}

/**
 * A watch by polling: the directory (or its tree) is listed every 250 ms
 * through the agent and compared with the last listing. It needs nothing in
 * the sandbox (no inotify daemon), sees what any process did, and costs one
 * listing per interval; events name the path relative to the watched
 * directory, as envd's do. A write and a remove between two looks of the same
 * file read as one event.
 */
class TreePoller {
  private timer: NodeJS.Timeout | undefined;
  private seen = new Map<string, Seen>();
  private stopped = false;

  constructor(
    private readonly s: Services,
    private readonly call: EnvdCall,
    private readonly root: string,
    private readonly recursive: boolean,
    private readonly emit: (e: FilesystemEvent) => void,
    private readonly failed: (err: unknown) => void,
  ) {}

  async start(): Promise<void> {
    this.seen = await this.look();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick().then(
        () => this.schedule(),
        (err: unknown) => {
          this.stop();
          this.failed(err);
        },
      );
    }, pollMs);
  }

  private async tick(): Promise<void> {
    const now = await this.look();
    if (this.stopped) return;
    for (const [path, entry] of now) {
      const before = this.seen.get(path);
      if (!before) this.event(path, EventType.CREATE);
      else if (before.size !== entry.size || before.mtime !== entry.mtime) this.event(path, EventType.WRITE);
      else if (before.mode !== entry.mode) this.event(path, EventType.CHMOD);
    }
    for (const path of this.seen.keys()) if (!now.has(path)) this.event(path, EventType.REMOVE);
    this.seen = now;
  }

  private event(path: string, type: EventType): void {
    this.emit(create(FilesystemEventSchema, { name: posix.relative(this.root, path), type }));
  }

  private async look(): Promise<Map<string, Seen>> {
    const sandbox = runningSandbox(this.s, this.call);
    const entries = await walk(this.s, sandbox, this.root, this.recursive ? maxDepth : 1, this.call.user);
    return new Map(entries.map((e) => [e.path, { type: e.type, size: e.size, mtime: e.mtime, mode: e.mode }]));
  }
}

/** A watcher read by polling (CreateWatcher / GetWatcherEvents): its events wait, bounded, for the next read. */
class PollingWatcher {
  poller: TreePoller | undefined;
  private events: FilesystemEvent[] = [];
  private lastRead = Date.now();

  constructor(
    readonly sandboxId: string,
    readonly tenant: string,
  ) {}

  add(e: FilesystemEvent): void {
    if (this.events.length < maxWatcherEvents) this.events.push(e);
  }

  take(): FilesystemEvent[] {
    this.lastRead = Date.now();
    const out = this.events;
    this.events = [];
    return out;
  }

  idleSince(): number {
    return Date.now() - this.lastRead;
  }
}

function ownWatcher(watchers: Map<string, PollingWatcher>, id: string, call: EnvdCall): PollingWatcher {
  const w = watchers.get(id);
  if (!w || w.sandboxId !== call.sandboxId || w.tenant !== call.c.get('principal').tenant) throw new ConnectError(`no watcher ${id}`, Code.NotFound);
  return w;
}

function removeWatcher(watchers: Map<string, PollingWatcher>, id: string): void {
  watchers.get(id)?.poller?.stop();
  watchers.delete(id);
}

function toWatchError(err: unknown): unknown {
  return err instanceof ConnectError ? err : err instanceof PaddockError ? new ConnectError(`${err.code}: ${err.message}`, Code.Unavailable) : err;
}
