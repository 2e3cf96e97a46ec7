import type { Socket } from 'node:net';
import {
  BadRequestError,
  type BrowserInfo,
  type BrowserStart,
  type Cursor,
  CursorSchema,
  type DesktopActionParsed,
  type DesktopActionsResult,
  DesktopActionsResultSchema,
  type DesktopLaunch,
  type DesktopStream,
  type DesktopWindows,
  DesktopWindowsSchema,
  desktopKeys,
  maxScreenshotSize,
  PaddockError,
  type ScreenSize,
  ScreenSizeSchema,
  type ScreenshotQuery,
  TimeoutError,
  UnavailableError,
} from '@paddock/core';
import type { SandboxHost } from '@paddock/engine';
import { z } from 'zod';
import type { ProcessManager } from '../commands/process-manager.js';
import type { IngressAddresses } from '../ingress/ingress-address.js';
import type { SandboxRecord } from '../store/sandbox-store.js';
import { readCdpPages, readCdpVersion } from './cdp-version.js';
import { desktopHelperSource } from './desktop-helper-source.js';
import { desktopPorts } from './desktop-template.js';
import { type HelperHeader, HelperSession } from './helper-session.js';

/** The DevTools port the sandbox's browser listens on, on its loopback only. */
export const cdpPort = 9222;

/** The most a helper may write: a full-HD PNG at the lowest compression is some 6 MiB. */
const maxPngBytes = 32 * 1024 * 1024;
const maxJsonBytes = 4 * 1024 * 1024;

/** The helper asks no shell: python3 reads its source as the first line of its stdin. */
const bootstrap = "import sys,json;exec(compile(json.loads(sys.stdin.readline()),'paddock-desktop','exec'))";

/** What the desktop looks like before an action: its size, and the window keys would go to. */
export interface DesktopState {
  screen: ScreenSize;
  focused: { id: string; title: string } | null;
}

const StateSchema = z.object({ screen: ScreenSizeSchema, focused: z.object({ id: z.string().max(64), title: z.string().max(4096) }).nullable() });
const ClipboardAnswer = z.object({ text: z.string() });

/** What a policy sees of where input goes: the focused window's title and, in the browser, its page's URL and host — all as the sandbox says. */
export interface DesktopFocus {
  window: string;
  url?: string;
  domain?: string;
}

/** The most of a window title or page URL a policy context (and the audit log) carries. */
const maxTitleChars = 256;
const maxUrlChars = 2048;

export interface DesktopServiceDeps {
  engine: Pick<SandboxHost, 'agent'>;
  processes: ProcessManager;
  addresses: IngressAddresses;
  /** How long one helper request may take, typing included. */
  timeoutMs?: number;
}

/**
 * The desktop of a sandbox, seen and driven from inside it: calls go to a
 * Python helper the daemon keeps running there through the agent (the
 * sandbox's network is never opened). Whatever it answers is the sandbox's
 * and so hostile: framed and bounded (HelperSession), parsed against a
 * schema, and a screenshot must be a PNG no larger than full HD.
 */
export class DesktopService {
  private readonly timeoutMs: number;
  /** The helper running in each sandbox, kept between calls (a screenshot then costs no new process). */
  private readonly sessions = new Map<string, HelperSession>();

  constructor(private readonly deps: DesktopServiceDeps) {
    this.timeoutMs = deps.timeoutMs ?? 120_000;
  }

  async screenshot(sandbox: SandboxRecord, query: ScreenshotQuery, signal?: AbortSignal): Promise<Buffer> {
    if ((query.width === undefined) !== (query.height === undefined)) {
      throw new BadRequestError('a region needs both width and height', { width: query.width ?? null, height: query.height ?? null });
    }
    const png = await this.helper(
      sandbox,
      { op: 'screenshot', ...query, maxWidth: maxScreenshotSize.width, maxHeight: maxScreenshotSize.height },
      maxPngBytes,
      signal,
    );
    checkPng(png);
    return png;
  }

  async state(sandbox: SandboxRecord, signal?: AbortSignal): Promise<DesktopState> {
    return this.json(sandbox, { op: 'state' }, StateSchema, signal);
  }

  /**
   * Readies a desktop waiting in a warm pool: its helper started, its start
   * command done starting (the window manager up, the live view's servers
   * listening), a screenshot taken (Pillow loaded, the shared-memory grab
   * set up), and the helper told to wait for the claim instead of ending
   * after a minute idle.
   * The claimer's first screenshot is then one request to a running helper.
   */
  async warm(sandbox: SandboxRecord, waitMs: number): Promise<void> {
    const ports = Object.values(desktopPorts);
    await this.json(sandbox, { op: 'settle', waitMs: 60_000, ports }, z.object({ settled: z.boolean() }));
    await this.helper(
      sandbox,
      { op: 'screenshot', waitMs: 60_000, idleS: Math.ceil(waitMs / 1000), maxWidth: maxScreenshotSize.width, maxHeight: maxScreenshotSize.height },
      maxPngBytes,
    ).then(checkPng);
  }

  /**
   * Checks every action against the screen and the key list before any
   * runs; the helper gets key names only as keysyms from that list.
   */
  prepare(actions: DesktopActionParsed[], screen: ScreenSize): Array<Record<string, unknown>> {
    return actions.map((a, index) => {
      for (const p of pointsOf(a)) {
        if (p.x >= screen.width || p.y >= screen.height) {
          throw new BadRequestError(
            `action ${index} (${a.type}) points at ${p.x},${p.y}, off the ${screen.width}x${screen.height} screen`,
            { index, screen },
            'invalid_coordinates',
          );
        }
      }
      if (a.type !== 'key') return a;
      const keysyms = a.keys.map((k) => {
        const sym = Object.hasOwn(desktopKeys, k.toLowerCase()) ? desktopKeys[k.toLowerCase()] : undefined;
        if (!sym) throw new BadRequestError(`action ${index}: no key is named ${JSON.stringify(k)}`, { index, key: k }, 'unknown_key');
        return sym;
      });
      return { type: 'key', keysyms };
    });
  }

  async act(sandbox: SandboxRecord, prepared: Array<Record<string, unknown>>, signal?: AbortSignal): Promise<DesktopActionsResult> {
    return this.json(sandbox, { op: 'act', actions: prepared }, DesktopActionsResultSchema, signal);
  }

  async cursor(sandbox: SandboxRecord, signal?: AbortSignal): Promise<Cursor> {
    return this.json(sandbox, { op: 'cursor' }, CursorSchema, signal);
  }

  async windows(sandbox: SandboxRecord, signal?: AbortSignal): Promise<DesktopWindows> {
    return this.json(sandbox, { op: 'windows' }, DesktopWindowsSchema, signal);
  }

  async clipboard(sandbox: SandboxRecord, signal?: AbortSignal): Promise<{ text: string }> {
    return this.json(sandbox, { op: 'clipboard_get' }, ClipboardAnswer, signal);
  }

  async setClipboard(sandbox: SandboxRecord, text: string, signal?: AbortSignal): Promise<{ text: string }> {
    return this.json(sandbox, { op: 'clipboard_set', text }, ClipboardAnswer, signal);
  }

  /** Starts an app on the display as a background command (it shows in `paddock ps`); no shell reads its arguments. */
  async launch(sandbox: SandboxRecord, request: Required<DesktopLaunch>, signal?: AbortSignal): Promise<{ pid: number }> {
    await this.state(sandbox, signal);
    const proc = await this.deps.processes.start(sandbox, { cmd: [request.app, ...request.args], env: displayEnv(sandbox) }, { signal });
    return { pid: proc.pid };
  }

  /**
   * Starts Chromium on the display with DevTools on the sandbox's loopback,
   * once (a second call finds it listening and starts none), and answers
   * with its browser WebSocket through ingress's path form.
   */
  async startBrowser(sandbox: SandboxRecord, request: BrowserStart, signal?: AbortSignal): Promise<BrowserInfo> {
    const running = await readCdpVersion(this.deps.engine.agent(sandbox.id), cdpPort, { timeoutMs: 5_000, signal }).catch(() => undefined);
    let pid: number | null = running ? (this.browserPid.get(sandbox.id) ?? null) : null;
    if (!running) {
      await this.state(sandbox, signal);
      const args = [
        `--remote-debugging-port=${cdpPort}`,
        '--remote-debugging-address=127.0.0.1',
        '--user-data-dir=/tmp/paddock-chromium',
        '--no-first-run',
        '--no-default-browser-check',
        '--disable-dev-shm-usage',
        // Chromium's own sandbox needs user namespaces the sandbox does not give; the sandbox is the boundary.
        '--no-sandbox',
        '--test-type',
        '--window-position=0,0',
        '--start-maximized',
        request.url ?? 'about:blank',
      ];
      const proc = await this.deps.processes.start(sandbox, { cmd: ['chromium', ...args], env: displayEnv(sandbox) }, { signal });
      pid = proc.pid;
      this.browserPid.set(sandbox.id, pid);
    }
    const version = running ?? (await this.waitForCdp(sandbox, signal));
    const path = this.deps.addresses.urls(sandbox.id, cdpPort).pathUrl.replace(/^http/, 'ws').replace(/\/$/, '');
    return { cdpUrl: `${path}${version.browserPath}`, port: cdpPort, pid };
  }

  private readonly browserPid = new Map<string, number>();

  /**
   * Where the input would go, for the policy: the focused window's title,
   * and when it is the browser's window, the URL of its page (from DevTools'
   * page list, matched by title, else its most recent page). Every part is
   * the sandbox's word: bounded, stripped of control and format characters,
   * and a URL is re-spelt by the URL parser without its credentials.
   */
  async focus(sandbox: SandboxRecord, state: DesktopState, signal?: AbortSignal): Promise<DesktopFocus> {
    const title = state.focused?.title ?? '';
    const focus: DesktopFocus = { window: cleanText(title, maxTitleChars) };
    if (!/chromium$/i.test(title.trim())) return focus;
    const pages = await readCdpPages(this.deps.engine.agent(sandbox.id), cdpPort, { timeoutMs: 2_000, signal }).catch(() => []);
    const page = pages.find((p) => p.title !== '' && `${p.title} - Chromium` === title) ?? pages[0];
    const url = page ? cleanUrl(page.url) : undefined;
    return url ? { ...focus, ...url } : focus;
  }

  /** A connection to the desktop's VNC server, on the sandbox's loopback: the one that takes no input, or the one that does. */
  async connectVnc(sandbox: SandboxRecord, viewOnly: boolean, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Socket> {
    const port = viewOnly ? desktopPorts.vncView : desktopPorts.vncControl;
    try {
      return await this.deps.engine.agent(sandbox.id).connect(port, options);
    } catch (err) {
      if (err instanceof PaddockError && err.details.errno === 'ECONNREFUSED') {
        throw new BadRequestError(
          `nothing listens on port ${port} in sandbox ${sandbox.id}: it has no live view (use the desktop template)`,
          { port },
          'desktop_unavailable',
        );
      }
      throw err;
    }
  }

  /** The live view's noVNC page and its WebSocket through ingress; the one that takes input is for the person in control. */
  stream(sandbox: SandboxRecord, viewOnly: boolean): DesktopStream {
    const port = viewOnly ? desktopPorts.novncView : desktopPorts.novncControl;
    const base = this.deps.addresses.urls(sandbox.id, port).pathUrl;
    const wsPath = `${new URL(base).pathname.replace(/^\//, '')}websockify`;
    return {
      url: `${base}vnc.html?autoconnect=1&resize=scale&view_only=${viewOnly ? 1 : 0}&path=${encodeURIComponent(wsPath)}`,
      websocketUrl: `${base.replace(/^http/, 'ws')}websockify`,
      viewOnly,
    };
  }

  private async waitForCdp(sandbox: SandboxRecord, signal?: AbortSignal): Promise<{ browserPath: string }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      signal?.throwIfAborted();
      const found = await readCdpVersion(this.deps.engine.agent(sandbox.id), cdpPort, { timeoutMs: 5_000, signal }).catch(() => undefined);
      if (found) return found;
      if (Date.now() > deadline) throw new TimeoutError(`the browser of sandbox ${sandbox.id} did not open DevTools on port ${cdpPort} within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private async json<T>(sandbox: SandboxRecord, request: Record<string, unknown>, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    const out = await this.helper(sandbox, request, maxJsonBytes, signal);
    const parsed = schema.safeParse(parseLine(out));
    if (!parsed.success) throw new UnavailableError(`the desktop of sandbox ${sandbox.id} gave an answer that does not parse`, { op: String(request.op) });
    return parsed.data;
  }

  /**
   * Sends the sandbox's helper one request (starting the helper if none runs); its answer, bounded. A failure it reports becomes the typed error it names.
   * Anything in the sandbox may write into the helper's pipe, and bytes written just before a call reach us as if they answered it: the session
   * breaks and is killed. A read that changes nothing is then asked once more of a new helper, so a sandbox can spoil one helper, not the caller's read.
   */
  private async helper(sandbox: SandboxRecord, request: Record<string, unknown>, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
    const retries = readOnlyOps.has(String(request.op)) ? 1 : 0;
    for (let attempt = 0; ; attempt++) {
      const session = await this.session(sandbox, signal);
      const answer = await session.request(request, maxBytes, this.timeoutMs, signal).catch(async (err: Error) => {
        this.forget(sandbox.id, session);
        const missing = await this.missingPython(sandbox, session);
        if (missing || attempt >= retries || !session.spoiled) throw missing ?? err;
        return undefined;
      });
      if (!answer) continue;
      if (answer.header.error) throw helperError(sandbox, answer.header);
      return answer.payload;
    }
  }

  private async session(sandbox: SandboxRecord, signal?: AbortSignal): Promise<HelperSession> {
    const env = displayEntries(sandbox);
    const running = this.sessions.get(sandbox.id);
    // One started while the sandbox waited in a warm pool has the pool's environment: a claimer who changed it gets a helper of its own.
    if (running && !running.broken && running.env.join('\0') === env.join('\0')) return running;
    if (running) {
      this.forget(sandbox.id, running);
      running.kill();
    }
    const starting = (async () => {
      let helper: HelperSession | undefined;
      const exec = await this.deps.engine
        .agent(sandbox.id)
        .exec(
          { cmd: ['python3', '-c', bootstrap], env, cwd: '/', user: sandbox.defaultUser },
          { onStdout: (data) => helper?.output(data) },
          { timeoutMs: 10_000, signal },
        );
      helper = new HelperSession(exec, env);
      exec.exited.then(
        () => this.forget(sandbox.id, helper),
        () => this.forget(sandbox.id, helper),
      );
      await exec.write(`${JSON.stringify(desktopHelperSource)}\n`);
      return helper;
    })();
    const helper = await starting;
    this.sessions.set(sandbox.id, helper);
    return helper;
  }

  private forget(sandboxId: string, helper: HelperSession | undefined): void {
    if (this.sessions.get(sandboxId) === helper) this.sessions.delete(sandboxId);
  }

  /** A template without python3: the helper's exec ends at once with 127. */
  private async missingPython(sandbox: SandboxRecord, helper: HelperSession): Promise<PaddockError | undefined> {
    const status = helper.exitStatus;
    if (status === 127) return new BadRequestError(`sandbox ${sandbox.id} has no python3 (use the desktop template)`, {}, 'desktop_unavailable');
    return undefined;
  }
}

/** Text the sandbox gave, for a policy or the audit log: no control or format characters (bidi overrides, zero-width), bounded. */
export function cleanText(text: string, max: number): string {
  return text.replace(/[\p{Cc}\p{Cf}]/gu, '').slice(0, max);
}

/** A page URL the sandbox gave: parsed and re-spelt, without user or password, bounded; its host for http(s). */
export function cleanUrl(raw: string): { url: string; domain?: string } | undefined {
  let u: URL;
  try {
    u = new URL(cleanText(raw, maxUrlChars * 2));
  } catch {
    return undefined;
  }
  u.username = '';
  u.password = '';
  const url = u.href.slice(0, maxUrlChars);
  return u.protocol === 'http:' || u.protocol === 'https:' ? { url, domain: u.hostname.replace(/\.$/, '') } : { url };
}

/** Requests that change nothing on the desktop, and so may be asked again. */
const readOnlyOps = new Set(['screenshot', 'state', 'cursor', 'windows', 'clipboard_get']);

function pointsOf(a: DesktopActionParsed): Array<{ x: number; y: number }> {
  switch (a.type) {
    case 'type':
    case 'key':
      return [];
    case 'scroll':
      return a.x !== undefined && a.y !== undefined ? [{ x: a.x, y: a.y }] : [];
    case 'drag':
      return [a.from, a.to];
    default:
      return [a];
  }
}

function displayEnv(sandbox: SandboxRecord): Record<string, string> {
  return { DISPLAY: sandbox.env.DISPLAY ?? ':0' };
}

function displayEntries(sandbox: SandboxRecord): string[] {
  return Object.entries({ ...sandbox.env, ...displayEnv(sandbox) }).map(([k, v]) => `${k}=${v}`);
}

function parseLine(out: Buffer): unknown {
  try {
    return JSON.parse(out.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The codes a helper may name; anything else it says is reported as the desktop failing. */
const helperCodes = new Set(['desktop_unavailable', 'invalid_coordinates']);

function helperError(sandbox: SandboxRecord, header: HelperHeader): PaddockError {
  const { error, message = 'no reason given', details } = header;
  if (error && helperCodes.has(error)) {
    const screen = ScreenSizeSchema.safeParse(details?.screen);
    return new BadRequestError(message, screen.success ? { screen: screen.data } : {}, error as 'desktop_unavailable' | 'invalid_coordinates');
  }
  return new UnavailableError(`the desktop of sandbox ${sandbox.id} failed: ${message}`);
}

const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A screenshot is passed on only as a PNG whose header says it is no larger than full HD. */
function checkPng(png: Buffer): void {
  const ok =
    png.length > 33 &&
    png.subarray(0, 8).equals(pngSignature) &&
    png.subarray(12, 16).toString('latin1') === 'IHDR' &&
    png.readUInt32BE(16) >= 1 &&
    png.readUInt32BE(16) <= maxScreenshotSize.width &&
    png.readUInt32BE(20) >= 1 &&
    png.readUInt32BE(20) <= maxScreenshotSize.height;
  if (!ok) throw new UnavailableError('the desktop gave a screenshot that is not a PNG of at most 1920x1080');
}
