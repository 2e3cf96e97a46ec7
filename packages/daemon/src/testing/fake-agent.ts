import { lstatSync, readFileSync, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, readlink, rename, rm, rmdir, stat, symlink, unlink } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { dirname, join, posix } from 'node:path';
import {
  agentFeatures,
  agentProtocolVersion,
  encodeFrame,
  Frame,
  FrameReader,
  type HostMount,
  type LeanChild,
  type LeanSpawner,
  Op,
  RequestField,
} from '@paddock/engine';
import { processSpawner } from './process-spawner.js';

/**
 * The fast test tier's stand-in for the static C agent: the same frames on
 * the same kind of unix socket, so the daemon's real AgentClient talks to it
 * unchanged. File operations act on a folder that plays the sandbox's root;
 * commands run under bubblewrap (no root needed) with that folder's /work,
 * /tmp, /home, /root and users over the host's own /usr, so a command and
 * the file API see the same files. It isolates nothing that matters: the
 * security tier tests the real agent in real sandboxes.
 */
export class FakeAgent {
  private server: Server | undefined;
  private readonly commands = new Map<number, SupervisedCommand>();
  private readonly connections = new Set<Socket>();

  constructor(
    private readonly root: string,
    private readonly socketPath: string,
    private readonly hostname: string,
    /** Host files the sandbox was given (a build's busybox, a gateway server's folders), bound into every command. */
    private readonly hostMounts: readonly HostMount[] = [],
    /** Commands start from a small helper process, not from the test's (see process-spawner.ts). */
    private readonly spawner: LeanSpawner = processSpawner(),
  ) {}

  async start(): Promise<void> {
    await mkdir(dirname(this.socketPath), { recursive: true });
    await rm(this.socketPath, { force: true });
    const server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    this.server = server;
  }

  /** Every command's process group, as the kernel's freezer would see it. */
  commandPids(): number[] {
    return [...this.commands.values()].filter((c) => !c.result).map((c) => c.pid);
  }

  /** Kills every command and stops answering, as a sandbox that was killed. */
  async stop(): Promise<void> {
    for (const command of this.commands.values()) command.kill('SIGKILL');
    this.commands.clear();
    for (const socket of this.connections) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(this.socketPath, { force: true });
  }

  private accept(socket: Socket): void {
    this.connections.add(socket);
    socket.on('close', () => this.connections.delete(socket));
    socket.on('error', () => {});
    const reader = new FrameReader();
    let request: Request | undefined;
    let onFrame: (type: string, payload: Buffer) => void = () => {};
    socket.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        if (request) {
          onFrame(frame.type, frame.payload);
          continue;
        }
        if (frame.type !== Frame.request) {
          send(socket, Frame.fail, 'EINVAL malformed request');
          return;
        }
        request = parseRequest(frame.payload);
        if (request.op === Op.connect) {
          // From here the connection carries raw bytes, not frames.
          socket.removeAllListeners('data');
          this.connect(socket, request);
          return;
        }
        this.dispatch(socket, request)
          .then((handler) => {
            if (handler) onFrame = handler;
          })
          .catch((err: NodeJS.ErrnoException) => send(socket, Frame.fail, describeErrno(err.code, request?.path ?? '')));
      }
    });
  }

  /**
   * Ingress: the port on the host's loopback, which the fake host's commands
   * share (bubblewrap gives them no network namespace of their own).
   */
  private connect(socket: Socket, req: Request): void {
    const port = Number(req.target);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      send(socket, Frame.fail, 'EINVAL port must be 1 to 65535');
      return;
    }
    const tcp = createConnection({ host: '127.0.0.1', port });
    let connected = false;
    tcp.once('error', (err: NodeJS.ErrnoException) => {
      if (connected) return socket.destroy();
      send(socket, Frame.fail, `${err.code ?? 'EIO'} connect to port ${port}: ${err.message}`);
      socket.end();
    });
    tcp.once('connect', () => {
      connected = true;
      send(socket, Frame.started);
      socket.pipe(tcp);
      tcp.pipe(socket);
      socket.once('close', () => tcp.destroy());
      tcp.once('close', () => socket.destroy());
    });
  }

  /** Answers one request; returns what handles the frames that follow it (stdin of a command, an upload). */
  private async dispatch(socket: Socket, req: Request): Promise<FrameHandler | undefined> {
    switch (req.op) {
      case Op.hello:
        send(socket, Frame.entry, `${agentProtocolVersion} ${agentFeatures.join(' ')}`);
        return ok(socket);
      case Op.ping:
        return ok(socket);
      case Op.exec:
        return this.exec(socket, req);
      case Op.procs:
        for (const command of this.commands.values()) send(socket, Frame.entry, command.describe());
        return ok(socket);
      case Op.attach:
        return this.attach(socket, req);
    }
    if (!req.path?.startsWith('/')) return void send(socket, Frame.fail, 'EINVAL path must be absolute');
    if (!this.lookupUser(req.user)) return void send(socket, Frame.fail, 'ESRCH unknown user');
    const files = new FakeFiles(this.root, socket);
    switch (req.op) {
      case Op.read:
        return files.read(req.path);
      case Op.write:
        return files.write(req.path, req.mode);
      case Op.list:
        return files.list(req.path);
      case Op.stat:
        return files.stat(req.path);
      case Op.remove:
        return files.remove(req.path, req.recursive);
      case Op.mkdir:
        return files.mkdir(req.path);
      case Op.rename:
        return files.rename(req.path, req.path2);
    }
    send(socket, Frame.fail, 'EINVAL unknown operation');
  }

  private async exec(socket: Socket, req: Request): Promise<FrameHandler | undefined> {
    const [file, ...args] = req.args;
    if (!file) return void send(socket, Frame.fail, 'EINVAL exec: empty command');
    const user = this.lookupUser(req.user);
    if (!user) return void send(socket, Frame.fail, `ESRCH exec: unknown user ${req.user ?? 'root'}`);
    const env = withLoginDefaults(req.env, user, req.pty);
    const cwd = req.cwd ? hostPath(this.root, req.cwd) : this.root;
    const cwdStat = await stat(cwd).catch(() => undefined);
    if (!cwdStat?.isDirectory()) return void send(socket, Frame.fail, describeErrno(cwdStat ? 'ENOTDIR' : 'ENOENT', `cwd ${req.cwd}`));
    const found = findCommand(this.root, file, env.PATH ?? '', this.hostMounts);
    if (!found) return void send(socket, Frame.fail, describeErrno('ENOENT', `exec ${file}`));
    const view = await this.commandView(user, req.cwd ?? '/');
    const child = this.spawner.spawn('bwrap', [...view, '--', file, ...args], { cwd, env, detached: true });
    const started = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (err) => resolve(err));
    });
    if (started) return void send(socket, Frame.fail, describeErrno(started.code, `exec ${file}`));
    const command = new SupervisedCommand(child, req.meta ?? '', () => this.commands.delete(command.pid));
    this.commands.set(command.pid, command);
    return command.connect(socket, { stdout: 0, stderr: 0 });
  }

  /**
   * bubblewrap's arguments for a command that sees this folder as its root,
   * with the host's programs, libraries and /etc over it (the folder's own
   * files in etc/, its users among them, over those).
   */
  private async commandView(user: { uid: number; gid: number }, cwd: string): Promise<string[]> {
    const args = ['--unshare-user', '--uid', String(user.uid), '--gid', String(user.gid), '--unshare-uts', '--hostname', this.hostname, '--die-with-parent'];
    // Its own pids, IPC and (empty) network: a test's command can neither signal nor reach the host's.
    args.push('--unshare-pid', '--unshare-ipc', '--unshare-net');
    args.push('--bind', this.root, '/');
    for (const name of hostSystemDirs) {
      const st = lstatOrUndefined(`/${name}`);
      // A link an earlier command left in the folder (bin -> usr/bin) is the host's own already.
      if (st?.isSymbolicLink() && !lstatOrUndefined(join(this.root, name))) args.push('--symlink', await readlink(`/${name}`), `/${name}`);
      else if (st && !st.isSymbolicLink()) args.push('--ro-bind', `/${name}`, `/${name}`);
    }
    args.push(...(await this.hostEtc()));
    for (const mount of this.hostMounts) args.push(mount.writable ? '--bind' : '--ro-bind', mount.source, mount.path);
    args.push('--proc', '/proc', '--dev', '/dev', '--chdir', cwd);
    return args;
  }

  /**
   * The folder's etc/ is the sandbox's (writable, its users in it); what it
   * lacks comes from the host's /etc, bound read-only once at hostEtcPath and
   * linked to from etc/. A file of the folder's own with content wins over
   * the host's; a folder or empty file of its own is covered by the host's.
   * One mount, not one per entry: each mount in a command's namespace costs
   * the kernel more the more mounts the host has (thousands on a machine
   * running sandboxes), and every command of the fast tier paid ~150 of them.
   */
  private async hostEtc(): Promise<string[]> {
    const args = ['--ro-bind', '/etc', hostEtcPath];
    const etc = join(this.root, 'etc');
    await mkdir(etc, { recursive: true });
    for (const entry of await readdir('/etc', { withFileTypes: true })) {
      const own = lstatOrUndefined(join(etc, entry.name));
      if (own && (own.isSymbolicLink() || (own.isFile() && own.size > 0))) continue;
      if (entry.isSymbolicLink()) {
        if (!own) await symlink(await readlink(`/etc/${entry.name}`), join(etc, entry.name)).catch(() => {});
      } else if (!own && (entry.isFile() || entry.isDirectory())) {
        await symlink(`${hostEtcPath}/${entry.name}`, join(etc, entry.name)).catch(() => {});
      } else if (entry.isFile() || entry.isDirectory()) {
        args.push('--ro-bind', `/etc/${entry.name}`, `/etc/${entry.name}`);
      }
    }
    return args;
  }

  private attach(socket: Socket, req: Request): FrameHandler | undefined {
    const command = /^\d{1,10}$/.test(req.target ?? '') ? this.commands.get(Number(req.target)) : undefined;
    if (!command) return void send(socket, Frame.fail, `ENOENT process ${req.target}: no such process`);
    return command.connect(socket, req.offsets);
  }

  /** The sandbox's own /etc/passwd names its users, as for the real agent. */
  private lookupUser(spec: string | undefined): SandboxUser | undefined {
    const wanted = spec || 'root';
    let passwd = '';
    try {
      passwd = readFileSync(join(this.root, 'etc/passwd'), 'utf8');
    } catch {
      return wanted === 'root' || wanted === '0' ? { name: 'root', uid: 0, gid: 0, home: '/root' } : undefined;
    }
    for (const line of passwd.split('\n')) {
      const [name, , uid, gid, , home] = line.split(':');
      if (name && (name === wanted || uid === wanted)) return { name, uid: Number(uid), gid: Number(gid), home: home ?? '/' };
    }
    return undefined;
  }
}

interface SandboxUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** What commands take from the host: its programs and libraries. */
const hostSystemDirs = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];
/** Where a command sees the host's /etc, read-only: the folder's etc/ links there for what it lacks. */
const hostEtcPath = '/.paddock-host-etc';

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Where a command's program is, as the command will see it; undefined when there is none (the agent's ENOENT). */
function findCommand(root: string, file: string, path: string, mounts: readonly HostMount[]): string | undefined {
  const candidates = file.includes('/')
    ? [file]
    : path
        .split(':')
        .filter(Boolean)
        .map((dir) => posix.join(dir, file));
  for (const candidate of candidates) {
    const top = candidate.split('/')[1] ?? '';
    const mount = mounts.find((m) => candidate === m.path || candidate.startsWith(`${m.path}/`));
    const onHost = mount ? mount.source + candidate.slice(mount.path.length) : hostSystemDirs.includes(top) ? candidate : hostPath(root, candidate);
    const st = lstatOrUndefined(onHost);
    if (st && !st.isDirectory()) return candidate;
  }
  return undefined;
}

type FrameHandler = (type: string, payload: Buffer) => void;

interface Request {
  op: string;
  args: string[];
  env: string[];
  cwd?: string;
  user?: string;
  path?: string;
  path2?: string;
  mode?: number;
  recursive: boolean;
  meta?: string;
  target?: string;
  offsets: { stdout: number; stderr: number };
  pty: boolean;
}

function parseRequest(payload: Buffer): Request {
  const req: Request = { op: '', args: [], env: [], recursive: false, offsets: { stdout: 0, stderr: 0 }, pty: false };
  for (const field of payload.toString().split('\0')) {
    if (field.length < 2 || field[1] !== ':') continue;
    const value = field.slice(2);
    switch (field[0]) {
      case RequestField.op:
        req.op = value;
        break;
      case RequestField.arg:
        req.args.push(value);
        break;
      case RequestField.env:
        req.env.push(value);
        break;
      case RequestField.cwd:
        req.cwd = value;
        break;
      case RequestField.user:
        req.user = value;
        break;
      case RequestField.path:
        req.path = value;
        break;
      case RequestField.path2:
        req.path2 = value;
        break;
      case RequestField.mode:
        req.mode = Number.parseInt(value, 8);
        break;
      case RequestField.recursive:
        req.recursive = value === '1';
        break;
      case RequestField.meta:
        req.meta = value;
        break;
      case RequestField.target:
        req.target = value;
        break;
      case RequestField.offsets: {
        const [stdout, stderr] = value.split(' ').map(Number);
        req.offsets = { stdout: stdout ?? 0, stderr: stderr ?? 0 };
        break;
      }
      case RequestField.pty:
        req.pty = true;
        break;
    }
  }
  return req;
}

function withLoginDefaults(env: string[], user: SandboxUser, pty: boolean): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {};
  for (const kv of env) {
    const eq = kv.indexOf('=');
    if (eq > 0) result[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  result.HOME ??= user.home;
  result.USER ??= user.name;
  result.LOGNAME ??= user.name;
  result.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  if (pty) result.TERM ??= 'xterm-256color';
  return result;
}

function send(socket: Socket, type: string, payload?: Buffer | string): void {
  if (!socket.destroyed && socket.writable) socket.write(encodeFrame(type, payload));
}

function ok(socket: Socket): undefined {
  send(socket, Frame.exit, '0 0');
  return undefined;
}

const errnoText: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EEXIST: 'File exists',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ENOTEMPTY: 'Directory not empty',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EINVAL: 'Invalid argument',
};

/** "ENOENT what: No such file or directory", as the C agent words a failure (no host path in it). */
function describeErrno(code: string | undefined, what: string): string {
  const name = code && /^E[A-Z0-9]+$/.test(code) ? code : 'EIO';
  return `${name} ${what}: ${errnoText[name] ?? name}`;
}

/** Where a sandbox path lies in the folder that plays the sandbox's root. */
function hostPath(root: string, path: string): string {
  return join(root, posix.resolve('/', path));
}

/** Output kept for a daemon that re-attaches, as the agent's rings keep it. */
class OutputRing {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly limit = 1 << 20) {}

  get start(): number {
    return this.total - this.kept;
  }

  push(data: Buffer): void {
    this.chunks.push(data);
    this.kept += data.length;
    this.total += data.length;
    while (this.kept > this.limit && this.chunks.length > 1) this.kept -= (this.chunks.shift() as Buffer).length;
  }

  since(offset: number): Buffer {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, Math.min(offset, this.total) - this.start));
  }
}

/** One command and its supervisor: output kept, the exit held until a daemon collects it. */
class SupervisedCommand {
  readonly pid: number;
  result: string | undefined;
  private socket: Socket | undefined;
  private readonly out = new OutputRing();
  private readonly err = new OutputRing();

  constructor(
    private readonly child: LeanChild,
    private readonly meta: string,
    private readonly forget: () => void,
  ) {
    this.pid = child.pid as number;
    child.stdout?.on('data', (data: Buffer) => this.output(Frame.stdout, this.out, data));
    child.stderr?.on('data', (data: Buffer) => this.output(Frame.stderr, this.err, data));
    child.stdin?.on('error', () => {});
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      const signo = signal ? constants.signals[signal] : 0;
      this.result = signo ? `${128 + signo} ${signo}` : `${code ?? 0} 0`;
      if (this.socket) send(this.socket, Frame.exit, this.result);
    });
  }

  kill(signal: NodeJS.Signals | number): void {
    try {
      process.kill(-this.pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  /** The line `procs` answers for it. */
  describe(): string {
    const [code, signo] = this.result ? this.result.split(' ') : ['-', '-'];
    const state = this.result ? 'exited' : 'running';
    return `${this.pid} ${state} ${code} ${signo} ${this.out.total} ${this.out.start} ${this.err.total} ${this.err.start}\n${this.meta}`;
  }

  /** Makes this connection the one that hears the command: its start, output kept since `from`, and its exit. */
  connect(socket: Socket, from: { stdout: number; stderr: number }): FrameHandler {
    this.socket?.destroy();
    this.socket = socket;
    socket.once('close', () => {
      if (this.socket === socket) this.socket = undefined;
    });
    send(socket, Frame.started, String(this.pid));
    this.replay(socket, Frame.stdout, this.out, from.stdout, 'stdout');
    this.replay(socket, Frame.stderr, this.err, from.stderr, 'stderr');
    if (this.result) send(socket, Frame.exit, this.result);
    return (type, payload) => this.onFrame(type, payload);
  }

  private replay(socket: Socket, type: string, ring: OutputRing, from: number, name: string): void {
    if (from < ring.start) send(socket, Frame.dropped, `${name} ${ring.start - from}`);
    const kept = ring.since(from);
    if (kept.length) send(socket, type, kept);
  }

  private output(type: string, ring: OutputRing, data: Buffer): void {
    ring.push(data);
    if (this.socket) send(this.socket, type, data);
  }

  private onFrame(type: string, payload: Buffer): void {
    if (type === Frame.dataIn && !this.result) this.child.stdin?.write(payload);
    else if (type === Frame.eofIn) this.child.stdin?.end();
    else if (type === Frame.signal && !this.result) this.kill(Number(payload.toString()));
    else if (type === Frame.collect && this.result) this.forget();
  }
}

/** File operations on the folder that plays the sandbox's root, answered as the agent answers them. */
class FakeFiles {
  constructor(
    private readonly root: string,
    private readonly socket: Socket,
  ) {}

  private host(path: string): string {
    return hostPath(this.root, path);
  }

  private async entry(path: string, stats?: Stats): Promise<void> {
    const host = this.host(path);
    const st = stats ?? (await lstat(host));
    const target = st.isSymbolicLink() ? await readlink(host) : '';
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    const fields = [type, st.size, (st.mode & 0o7777).toString(8), Math.floor(st.mtimeMs), st.uid, st.gid, path, target];
    send(this.socket, Frame.entry, fields.join('\0'));
  }

  async read(path: string): Promise<undefined> {
    const handle = await open(this.host(path), 'r');
    try {
      const st = await handle.stat();
      if (st.isDirectory()) return void send(this.socket, Frame.fail, describeErrno('EISDIR', path));
      await this.entry(path, st);
      for await (const chunk of handle.createReadStream({ autoClose: false, highWaterMark: 64 * 1024 })) {
        send(this.socket, Frame.stdout, chunk as Buffer);
      }
    } finally {
      await handle.close();
    }
    return ok(this.socket);
  }

  async write(path: string, mode: number | undefined): Promise<FrameHandler | undefined> {
    const host = this.host(path);
    if ((await stat(host).catch(() => undefined))?.isDirectory()) return void send(this.socket, Frame.fail, describeErrno('EISDIR', path));
    await mkdir(dirname(host), { recursive: true });
    const temp = join(dirname(host), `.paddock-upload-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const handle = await open(temp, 'w');
    send(this.socket, Frame.started, 'ready');
    let writes = Promise.resolve();
    let done = false;
    this.socket.once('close', () => {
      if (!done) void writes.finally(() => handle.close().then(() => unlink(temp).catch(() => {})));
    });
    return (type, payload) => {
      if (type === Frame.dataIn) {
        const data = Buffer.from(payload);
        writes = writes.then(() => handle.write(data).then(() => {}));
      } else if (type === Frame.eofIn) {
        done = true;
        writes = writes
          .then(() => handle.close())
          .then(() => chmod(temp, mode ?? 0o644))
          .then(() => rename(temp, host))
          .then(() => this.entry(path))
          .then(() => ok(this.socket))
          .catch((err: NodeJS.ErrnoException) => send(this.socket, Frame.fail, describeErrno(err.code, path)));
      }
    };
  }

  async list(path: string): Promise<undefined> {
    const names = await readdir(this.host(path));
    for (const name of names) await this.entry(posix.join(path, name)).catch(() => {});
    return ok(this.socket);
  }

  async stat(path: string): Promise<undefined> {
    await this.entry(path);
    return ok(this.socket);
  }

  async remove(path: string, recursive: boolean): Promise<undefined> {
    const host = this.host(path);
    const st = lstatSync(host);
    if (st.isDirectory()) await (recursive ? rm(host, { recursive: true }) : rmdir(host));
    else await unlink(host);
    return ok(this.socket);
  }

  async mkdir(path: string): Promise<undefined> {
    await mkdir(this.host(path), { recursive: true });
    await this.entry(path);
    return ok(this.socket);
  }

  async rename(from: string, to: string | undefined): Promise<undefined> {
    if (!to) return void send(this.socket, Frame.fail, 'EINVAL rename: missing destination');
    await mkdir(dirname(this.host(to)), { recursive: true });
    await rename(this.host(from), this.host(to));
    await this.entry(to);
    return ok(this.socket);
  }
}
