import { lookup } from 'node:dns/promises';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Approvals, ConflictError, Pools, Sandbox } from '@paddock/sdk';
import { chromium, type Locator } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runCli } from '../testing/run-cli.js';
import { cliMain, startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

// Real desktops in real sandboxes. The first sandbox of the desktop template
// builds it into this daemon's own state (Debian's packages through the
// build's egress proxy), as a fresh install does on first use; every test
// here shares that build.
let daemon: TestDaemon;
let sbx: Sandbox;
const buildTimeoutMs = 30 * 60_000;
let agent: { id: string; token: string };
let person: { id: string; token: string };

/** A Tk window at 0,0 (400×300, white) that logs what reaches it: clicks, and its entry's text on Enter (which empties it). */
const tkApp = `
import json
import tkinter as tk
log = open('/tmp/events.log', 'a', buffering=1)
root = tk.Tk()
root.title('paddock-test-app')
root.geometry('400x300+0+0')
root.configure(bg='white')
entry = tk.Entry(root)
entry.pack(fill='x')
entry.focus_set()
root.bind_all('<Button>', lambda e: log.write('click %d %d %d\\n' % (e.num, e.x_root, e.y_root)))
def enter(e):
    log.write('entry %s\\n' % json.dumps(entry.get()))
    entry.delete(0, 'end')
entry.bind('<Return>', enter)
log.write('ready\\n')
root.mainloop()
`;

beforeAll(async () => {
  daemon = await startTestDaemon(['--egress-allow-range', await debianMirrorRange()]);
  sbx = await Sandbox.create({ ...daemon.conn, template: 'desktop', limits: { memoryMiB: 2048 }, timeoutMs: 3_600_000, requestTimeoutMs: buildTimeoutMs });
  agent = await newToken({ role: 'agent', owner: 'agent:desktop-test' });
  person = await newToken({ role: 'operator', owner: 'bob@example.com' });
}, buildTimeoutMs);

afterAll(async () => {
  await daemon?.stop();
});

async function debianMirrorRange(): Promise<string> {
  const { address } = await lookup('deb.debian.org', { family: 4 });
  return `${address}/32`;
}

async function newToken(body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const res = await daemon.api('/v1/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; token: string };
}

async function as(token: string): Promise<Sandbox> {
  return Sandbox.connect(sbx.id, { url: daemon.url, token });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** pgrep's pattern for an x11vnc on port 5900 (the brackets keep it from matching the shell that runs pgrep). */
const onViewPort = 'rfbport [5]900';

/**
 * S6's rigged VNC server: one that takes input, on the view-only port 5900. It
 * is started again while no x11vnc holds that port (one that could not listen
 * yet ends), up to five times; a timeout says what each start ended with, what
 * listens, and the servers' log.
 */
async function startRiggedVncServer(): Promise<{ connect(): Promise<RfbClient>; kill(): Promise<void> }> {
  const log = '/tmp/rigged-vnc.log';
  const command = `x11vnc -display :0 -localhost -rfbport 5900 -shared -forever -nopw -noxdamage -oa ${log}`;
  const ended: string[] = [];
  let lastOpenError = '';
  const start = async () => {
    const handle = await sbx.commands.start(command);
    void handle.wait().then(
      (result) => ended.push(`exit ${result.exitCode}`),
      (err: Error) => ended.push(err.message),
    );
  };
  await start();
  let starts = 1;
  const alive = async () => (await sbx.commands.run(`pgrep -f '${onViewPort}' || true`, { timeoutMs: 10_000 })).stdout.trim() !== '';
  const open = () =>
    RfbClient.open((async () => (await sbx.desktop.stream()).websocketUrl)(), { authorization: `Bearer ${agent.token}` }, ['binary']).catch((err: Error) => {
      lastOpenError = err.message;
      return undefined;
    });
  const state = async () =>
    (
      await sbx.commands
        .run(`pgrep -a x11vnc; grep -i ':170C 00000000:0000 0A' /proc/net/tcp; tail -c 2000 ${log}; true`, { timeoutMs: 10_000 })
        .catch((err: Error) => ({ stdout: `(state not read: ${err.message})` }))
    ).stdout;
  return {
    connect: () =>
      waitFor(
        'the rigged server',
        async () => {
          if (starts < 5 && !(await alive())) {
            await start();
            starts++;
          }
          return open();
        },
        60_000,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}; ${starts} starts, ended: ${ended.join(' | ')}; last open error: ${lastOpenError}; in the sandbox: ${await state()}`);
      }),
    kill: stopVncServersOnViewPort,
  };
}

/** Every x11vnc on port 5900, gone (an earlier start could still be running). */
async function stopVncServersOnViewPort(): Promise<void> {
  await sbx.commands.run(`pkill -f '${onViewPort}'; for i in $(seq 100); do pgrep -f '${onViewPort}' >/dev/null || break; sleep 0.1; done; sleep 0.2`, {
    timeoutMs: 30_000,
  });
}

async function events(): Promise<string> {
  return (await sbx.commands.run('cat /tmp/events.log', { timeoutMs: 10_000 })).stdout;
}

/** Pixels of a region that are not black (the bare Xvfb screen is black). */
function litPixels(png: PNG, x0: number, y0: number, w: number, h: number): number {
  let lit = 0;
  for (let y = y0; y < y0 + h; y++) {
    for (let x = x0; x < x0 + w; x++) {
      const i = (y * png.width + x) * 4;
      if ((png.data[i] ?? 0) + (png.data[i + 1] ?? 0) + (png.data[i + 2] ?? 0) > 600) lit++;
    }
  }
  return lit;
}

let appStarted = false;
async function startApp(): Promise<void> {
  if (appStarted) return;
  await sbx.files.write('/tmp/app.py', tkApp);
  await sbx.desktop.launch('python3', ['/tmp/app.py']);
  await waitFor('the Tk app', async () => ((await sbx.desktop.windows()).some((w) => w.title === 'paddock-test-app') ? true : undefined));
  await waitFor('the app to log', async () => ((await events()).includes('ready') ? true : undefined));
  appStarted = true;
}

describe('desktop sandboxes', () => {
  it('builds the desktop template on first use; a screenshot is a 1280×800 PNG that shows a window the test opened', async () => {
    const before = PNG.sync.read(Buffer.from(await sbx.desktop.screenshot()));
    expect([before.width, before.height]).toEqual([1280, 800]);
    expect(litPixels(before, 0, 0, 400, 300)).toBe(0);
    await startApp();
    const after = PNG.sync.read(Buffer.from(await sbx.desktop.screenshot()));
    // The app's white window covers most of its 400×300 rectangle now; the rest of the screen stays black.
    expect(litPixels(after, 0, 0, 400, 300)).toBeGreaterThan(400 * 300 * 0.5);
    expect(litPixels(after, 800, 500, 400, 300)).toBe(0);
    // A region, scaled: its own size.
    const region = PNG.sync.read(Buffer.from(await sbx.desktop.screenshot({ x: 0, y: 0, width: 400, height: 300, scale: 0.5 })));
    expect([region.width, region.height]).toEqual([200, 150]);
  });

  it('takes its screen size from PADDOCK_SCREEN at create, and scales a screen larger than full HD no further than 1920×1080', async () => {
    const wide = await Sandbox.create({ ...daemon.conn, template: 'desktop', env: { PADDOCK_SCREEN: '2560x1440' } });
    try {
      const png = PNG.sync.read(Buffer.from(await wide.desktop.screenshot()));
      expect([png.width, png.height]).toEqual([1920, 1080]);
      expect((await wide.desktop.actions([{ type: 'move', x: 2500, y: 1400 }])).screen).toEqual({ width: 2560, height: 1440 });
    } finally {
      await wide.kill();
    }
  });

  it('clicks and typed text reach an X client, which records them', async () => {
    await startApp();
    await sbx.desktop.click(200, 150);
    await sbx.desktop.click(210, 160, { button: 'right' });
    await sbx.desktop.click(100, 20);
    await sbx.desktop.type('hello desktop');
    await sbx.desktop.press('enter');
    expect(await sbx.desktop.cursor()).toEqual({ x: 100, y: 20 });
    const log = await waitFor('the entry line', async () => ((await events()).includes('entry "hello desktop"') ? events() : undefined));
    expect(log).toContain('click 1 200 150');
    expect(log).toContain('click 3 210 160');
    const windows = await sbx.desktop.windows();
    expect(windows.find((w) => w.title === 'paddock-test-app')).toMatchObject({ x: expect.any(Number), width: 400, height: 300 });
  });

  it('a screenshot is the screen pixel for pixel, also when only a small part of it changed since the one before', async () => {
    await startApp();
    // The same screen as another X client grabs it (Pillow over the X socket, Pillow's own PNG), below the
    // Tk app's entry, whose text cursor blinks.
    const below = 60;
    const matches = async () => {
      const shot = PNG.sync.read(Buffer.from(await sbx.desktop.screenshot()));
      await sbx.commands.run(['python3', '-c', "from PIL import ImageGrab; ImageGrab.grab(xdisplay=':0').save('/tmp/ref.png')"], { timeoutMs: 30_000 });
      const ref = PNG.sync.read(Buffer.from(await sbx.files.read('/tmp/ref.png', { format: 'bytes' })));
      expect([shot.width, shot.height]).toEqual([ref.width, ref.height]);
      return shot.data.subarray(below * shot.width * 4).equals(ref.data.subarray(below * ref.width * 4));
    };
    expect(await matches()).toBe(true);
    // A 50×40 red window appears, and goes: each changes a few rows of the screen.
    await sbx.files.write(
      '/tmp/patch.py',
      "import tkinter as tk\nr = tk.Tk()\nr.title('paddock-patch')\nr.geometry('50x40+700+500')\nr.configure(bg='red')\nr.mainloop()\n",
    );
    await sbx.desktop.launch('python3', ['/tmp/patch.py']);
    await waitFor('the red window', async () => ((await sbx.desktop.windows()).some((w) => w.title === 'paddock-patch') ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    expect(await matches()).toBe(true);
    await sbx.commands.run("pkill -f '/tmp/patch[.]py'");
    await waitFor('the red window to go', async () => ((await sbx.desktop.windows()).some((w) => w.title === 'paddock-patch') ? undefined : true));
    await new Promise((r) => setTimeout(r, 300));
    expect(await matches()).toBe(true);
  });

  it('a double click, a scroll and a drag reach the X client as their buttons, at their points', async () => {
    await startApp();
    await sbx.desktop.doubleClick(220, 170);
    await sbx.desktop.scroll({ dy: 200, x: 230, y: 180 });
    await sbx.desktop.drag([240, 190], [250, 200]);
    expect(await sbx.desktop.cursor()).toEqual({ x: 250, y: 200 });
    const log = await waitFor('the drag', async () => ((await events()).includes('click 1 240 190') ? events() : undefined));
    expect(log.split('\n').filter((l) => l === 'click 1 220 170')).toHaveLength(2);
    expect(log.split('\n').filter((l) => l === 'click 5 230 180')).toHaveLength(2);
  });

  it('S1: typed text with shell metacharacters arrives as text and runs nothing', async () => {
    await startApp();
    const text = `$(touch /tmp/s1-a) \`touch /tmp/s1-b\` ; touch /tmp/s1-c | & > < ' " -- --file /etc/passwd`;
    await sbx.desktop.click(100, 20);
    await sbx.desktop.type(text);
    await sbx.desktop.press('return');
    await waitFor('the typed line', async () => ((await events()).includes('--file /etc/passwd') ? true : undefined));
    expect(await events()).toContain(`entry ${JSON.stringify(text)}`);
    const left = await sbx.commands.run('ls /tmp/s1-a /tmp/s1-b /tmp/s1-c 2>&1; true');
    expect(left.stdout).not.toMatch(/^\/tmp\/s1-/m);
  });

  it('S5: bytes written into the desktop helper’s pipe from inside the sandbox end that helper; the next call gets a true screenshot', async () => {
    await sbx.desktop.cursor();
    const pid = (await sbx.commands.run("pgrep -f 'exec\\(compile' | head -1")).stdout.trim();
    expect(pid).toMatch(/^\d+$/);
    // A forged answer (a header and its bytes, no request id), then garbage; the screenshot asked at once may meet them as its answer.
    await sbx.commands.run(`printf '{"len": 6}\\nforged{"len": 99999999999}\\n' > /proc/${pid}/fd/1`);
    const png = PNG.sync.read(Buffer.from(await sbx.desktop.screenshot()));
    expect([png.width, png.height]).toEqual([1280, 800]);
    // Bytes in the pipe reach the daemon when they reach it: before or after that screenshot, they end the helper they went to.
    await waitFor('the spoiled helper to end', async () =>
      (await sbx.commands.run(`kill -0 ${pid} 2>/dev/null && echo alive || echo gone`)).stdout.trim() === 'gone' ? true : undefined,
    );
    expect(PNG.sync.read(Buffer.from(await sbx.desktop.screenshot())).width).toBe(1280);
  });

  it('refuses points off the screen and key names not on the list, before any action runs', async () => {
    const err = await sbx.desktop
      .actions([
        { type: 'move', x: 10, y: 10 },
        { type: 'click', x: 1280, y: 10 },
      ])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_coordinates', status: 400, details: { screen: { width: 1280, height: 800 } } });
    // The first action did not run either.
    expect(await sbx.desktop.cursor()).not.toEqual({ x: 10, y: 10 });
    await expect(sbx.desktop.press(['ctrl', 'semicolon;rm'])).rejects.toMatchObject({ code: 'unknown_key', status: 400 });
    await expect(sbx.desktop.drag([0, 0], [5000, 5000])).rejects.toMatchObject({ code: 'invalid_coordinates' });
    await expect(sbx.desktop.screenshot({ x: 1000, y: 0, width: 400, height: 100 })).rejects.toMatchObject({ code: 'invalid_coordinates', status: 400 });
    const res = await daemon.api(`/v1/sandboxes/${sbx.id}/desktop/actions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ actions: [{ type: 'click', x: -1, y: 5 }] }),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('invalid_request');
  });

  it("refuses the agent's input while a person holds the sandbox, and takes it again after the handback", async () => {
    const asAgent = await as(agent.token);
    const asPerson = await as(person.token);
    await asPerson.takeover();
    try {
      const err = await asAgent.desktop.click(50, 50).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect(err).toMatchObject({ code: 'human_in_control', status: 409, details: { by: person.id } });
      await expect(asAgent.desktop.type('x')).rejects.toMatchObject({ code: 'human_in_control' });
      await expect(asAgent.browser.start()).rejects.toMatchObject({ code: 'human_in_control' });
      // Seeing stays open to the agent; the person's own input goes through.
      expect((await asAgent.desktop.screenshot()).length).toBeGreaterThan(100);
      await asPerson.desktop.move(60, 60);
    } finally {
      await asPerson.handback();
    }
    await asAgent.desktop.move(70, 70);
    expect(await asAgent.desktop.cursor()).toEqual({ x: 70, y: 70 });
  });

  it('records a desktop takeover as frames of the screen, linked from the handback and its audit record', async () => {
    const asPerson = await as(person.token);
    const taken = await asPerson.takeover();
    const sessionId = taken.control.mode === 'human' ? taken.control.sessionId : '';
    expect(sessionId).not.toBe('');
    let handback: Awaited<ReturnType<typeof asPerson.handback>> | undefined;
    try {
      // The first frame is shot once the takeover starts; the person's input goes on meanwhile.
      await waitFor('the first frame', async () => ((await asPerson.recordings.frames(sessionId).catch(() => undefined))?.frames.length ? true : undefined));
      await asPerson.desktop.move(300, 300);
    } finally {
      handback = await asPerson.handback();
    }
    const { frames, intervalMs } = await sbx.recordings.frames(sessionId);
    expect(intervalMs).toBeGreaterThan(0);
    expect(frames.length).toBeGreaterThanOrEqual(1);
    expect(handback.recording).toMatchObject({ sessionId, frames: frames.length, framesBytes: frames.reduce((n, f) => n + f.bytes, 0) });
    const first = PNG.sync.read(Buffer.from(await sbx.recordings.frame(sessionId, 0)));
    expect([first.width, first.height]).toEqual([1280, 800]);
    await expect(sbx.recordings.frame(sessionId, frames.length)).rejects.toMatchObject({ status: 404 });
    const audit = await (await daemon.api(`/v1/audit?action=sandbox.handback&sandbox=${sbx.id}`)).json();
    const record = audit.records.find((e: { details?: { sessionId?: string } }) => e.details?.sessionId === sessionId);
    expect(record?.details).toMatchObject({ frames: frames.length });
  });

  it('starts Chromium whose DevTools Playwright reaches through ingress, reading a page a server inside the sandbox serves', async () => {
    await sbx.files.write('/tmp/site/index.html', '<title>inside</title><p id="p">served inside the sandbox</p>');
    await sbx.commands.start('python3 -m http.server 8000 --bind 127.0.0.1 --directory /tmp/site');
    const { cdpUrl } = await sbx.browser.start();
    expect(cdpUrl).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/v1/sandboxes/${sbx.id}/ports/9222/devtools/browser/`));
    const browser = await chromium.connectOverCDP(cdpUrl, { headers: { authorization: `Bearer ${daemon.token}` } });
    try {
      const page = await (browser.contexts()[0] ?? (await browser.newContext())).newPage();
      await waitFor('the server', async () => (await page.goto('http://127.0.0.1:8000/').catch(() => null))?.ok() || undefined);
      expect(await page.textContent('#p')).toBe('served inside the sandbox');
      // The browser's traffic goes through the sandbox's egress rules: a host it may not reach is refused.
      const away = await page.goto('http://example.com/');
      expect(away?.status()).toBe(403);
      expect(await page.content()).toContain('example.com:80 is not in the sandbox');
    } finally {
      await browser.close();
    }
    // A second start finds it running.
    expect((await sbx.browser.start()).cdpUrl).toBe(cdpUrl);
  });

  it('S2: the DevTools port refuses a connection without a token, and an agent while a person holds the sandbox', async () => {
    const { cdpUrl } = await sbx.browser.start();
    expect(await upgradeStatus(cdpUrl, {})).toBe(401);
    expect(await upgradeStatus(cdpUrl, { authorization: 'Bearer not-a-token' })).toBe(401);
    const asPerson = await as(person.token);
    await asPerson.takeover();
    try {
      expect(await upgradeStatus(cdpUrl, { authorization: `Bearer ${agent.token}` })).toBe(409);
    } finally {
      await asPerson.handback();
    }
    expect(await upgradeStatus(cdpUrl, { authorization: `Bearer ${agent.token}` })).toBe(101);
  });

  it('S3: the VNC and DevTools ports listen on the loopback only: neither the host nor another sandbox reaches them', async () => {
    const ip = (await sbx.commands.run("hostname -I | awk '{print $1}'")).stdout.trim();
    const listening = (await sbx.commands.run('cat /proc/net/tcp')).stdout;
    // 5900, 5901, 6080, 6081 and 9222 listen, each on 127.0.0.1 (0100007F) only.
    for (const port of [5900, 5901, 6080, 6081, 9222]) {
      const hex = port.toString(16).toUpperCase().padStart(4, '0');
      const lines = listening.split('\n').filter((l) => l.includes(`:${hex} `) && l.trim().split(/\s+/)[3] === '0A');
      expect(lines.length, `port ${port}`).toBeGreaterThan(0);
      for (const l of lines) expect(l.trim().split(/\s+/)[1]).toBe(`0100007F:${hex}`);
    }
    // The host has no route into a sandbox's network namespace; another sandbox, asking this one's address, reaches none of them.
    const other = await Sandbox.create({ ...daemon.conn, template: 'desktop', startCommand: false });
    try {
      const probe = await other.commands.run(
        `python3 -c "import socket\nfor p in (5900,5901,6080,9222):\n  s=socket.socket();s.settimeout(2)\n  print(p, s.connect_ex(('${ip}',p)))"`,
      );
      expect(probe.stdout.trim().split('\n')).toHaveLength(4);
      for (const line of probe.stdout.trim().split('\n')) expect(line.split(' ')[1]).not.toBe('0');
    } finally {
      await other.kill();
    }
  });

  it('S4: the live view with input is the taker’s alone; watchers get the view-only one', async () => {
    const view = await sbx.desktop.stream();
    expect(view.viewOnly).toBe(true);
    expect(await rfbGreeting(view.websocketUrl, { authorization: `Bearer ${agent.token}` })).toMatch(/^RFB 003\.00\d/);
    const control = (await sbx.desktop.stream()).websocketUrl.replace('/ports/6080/', '/ports/6081/');
    expect(await upgradeStatus(control, { authorization: `Bearer ${agent.token}` })).toBe(403);
    expect(await upgradeStatus(control, { authorization: `Bearer ${person.token}` })).toBe(403);
    const asPerson = await as(person.token);
    await expect((await as(agent.token)).desktop.stream({ viewOnly: false })).rejects.toMatchObject({ code: 'desktop_view_only', status: 403 });
    await asPerson.takeover();
    try {
      const mine = await asPerson.desktop.stream({ viewOnly: false });
      expect(mine.viewOnly).toBe(false);
      expect(await rfbGreeting(mine.websocketUrl, { authorization: `Bearer ${person.token}` })).toMatch(/^RFB 003\.00\d/);
      expect(await upgradeStatus(mine.websocketUrl, { authorization: `Bearer ${agent.token}` })).toBe(403);
    } finally {
      await asPerson.handback();
    }
  });

  it('a page that eats memory is stopped at the sandbox’s memory limit: the sandbox bears it, not the host or other sandboxes', async () => {
    const small = await Sandbox.create({ ...daemon.conn, template: 'desktop', limits: { memoryMiB: 768 } });
    try {
      const { cdpUrl } = await small.browser.start();
      const browser = await chromium.connectOverCDP(cdpUrl, { headers: { authorization: `Bearer ${daemon.token}` } });
      try {
        const page = await (browser.contexts()[0] ?? (await browser.newContext())).newPage();
        await page.goto('about:blank');
        // Some 4 GiB of distinct arrays if nothing stopped it; the cgroup's OOM killer ends the renderer first.
        const eaten = await page
          .evaluate(() => {
            const kept: number[][] = [];
            for (let i = 0; i < 512; i++) kept.push(new Array(1_000_000).fill(i));
            return kept.length;
          })
          .catch((e: Error) => e);
        expect(eaten).toBeInstanceOf(Error);
      } finally {
        await browser.close().catch(() => {});
      }
      type Current = { memoryBytes: number; memoryLimitBytes: number } | null;
      const sampled = async () => ((await (await daemon.api(`/v1/sandboxes/${small.id}/metrics`)).json()) as { current: Current }).current;
      // The sampler reads each sandbox once an interval: on a busy machine the first reading may not be there yet.
      await expect.poll(sampled, { timeout: 15_000 }).not.toBeNull();
      const current = (await sampled()) as NonNullable<Current>;
      expect(current.memoryLimitBytes).toBe(768 * 1024 * 1024);
      expect(current.memoryBytes).toBeLessThanOrEqual(current.memoryLimitBytes);
      // The other desktop and the daemon carry on.
      expect(PNG.sync.read(Buffer.from(await sbx.desktop.screenshot())).width).toBe(1280);
    } finally {
      await small.kill();
    }
  });
});

describe('desktops from a warm pool', () => {
  it('a claimed desktop has its display up and its helper running already; a create naming its own screen size is made afresh', async () => {
    const limits = { memoryMiB: 1024 };
    const warmed = () => (daemon.log().match(/pooled sandbox warmed/g) ?? []).length;
    const before = warmed();
    const pool = await Pools.set({ template: 'desktop', size: 1, limits }, daemon.conn);
    try {
      await waitFor('the pooled desktop to be warmed', async () => (warmed() > before ? true : undefined), 120_000);
      // The pool holds one warmed desktop: a create asking its own screen size must not get it (its X server runs at the pool's size).
      const wide = await Sandbox.create({ ...daemon.conn, template: 'desktop', limits, env: { PADDOCK_SCREEN: '1024x768' } });
      try {
        expect((await wide.desktop.actions([{ type: 'move', x: 1000, y: 700 }])).screen).toEqual({ width: 1024, height: 768 });
      } finally {
        await wide.kill();
      }
      const claimed = await Sandbox.create({ ...daemon.conn, template: 'desktop', limits });
      try {
        expect((await Pools.list(daemon.conn)).find((p) => p.id === pool.id)).toMatchObject({ hits: 1 });
        // Before any desktop call of the claimer: the X server answers and the daemon's helper runs, started while the desktop waited.
        const inside = await claimed.commands.run("xdotool getdisplaygeometry; pgrep -f 'exec\\(compile' | wc -l", { timeoutMs: 10_000 });
        expect(inside.stdout.trim().split('\n')).toEqual(['1280 800', '1']);
        const png = PNG.sync.read(Buffer.from(await claimed.desktop.screenshot()));
        expect([png.width, png.height]).toEqual([1280, 800]);
        // The same helper answered: none was started for the claimer.
        expect((await claimed.commands.run("pgrep -f 'exec\\(compile' | wc -l")).stdout.trim()).toBe('1');
      } finally {
        await claimed.kill();
      }
    } finally {
      await Pools.remove(pool.id, daemon.conn);
    }
  });
});

describe('the desktop in the control tower', () => {
  it('shows the live screen (noVNC); after Take over the view switches to the stream that takes input: a click on the picture lands in the sandbox, while the agent’s input is refused', async () => {
    await startApp();
    // The sandbox's Chromium (started by an earlier test) may cover the app: bring the app to the front.
    await sbx.commands.run("xdotool search --name '^paddock-test-app$' windowactivate --sync");
    mkdirSync(shots, { recursive: true });
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    let sessionId = '';
    try {
      const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
      const consoleLines: string[] = [];
      page.on('console', (m) => consoleLines.push(m.text().slice(0, 300)));
      page.on('pageerror', (e) => consoleLines.push(`pageerror ${e.message.slice(0, 300)}`));
      await page.goto(`${daemon.url}/`);
      await page.getByLabel('API token').fill(person.token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Sandboxes', level: 1 }).waitFor();
      await page.goto(`${daemon.url}/#/sandboxes/${sbx.id}`);
      const screen = page.getByRole('region', { name: `Screen of ${sbx.id}` });
      const canvas = screen.locator('canvas');
      await canvas.waitFor({ state: 'attached', timeout: 30_000 });
      // The live view draws the sandbox's screen: the Tk app's white window, at its top left.
      await waitFor('the live view to draw the screen', async () => ((await whitePixels(canvas)) > 400 * 300 * 0.5 ? true : undefined)).catch(
        async (err: Error) => {
          throw new Error(
            `${err.message}; the page says: ${(await page.locator('.vnc-status').allTextContents()).join(' / ')}; console: ${consoleLines.join(' | ')}`,
          );
        },
      );
      await screen.scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(shots, 'live-view.png'), fullPage: true });

      await page.getByRole('button', { name: 'Take over' }).click();
      await page.getByText('You control this desktop').waitFor({ timeout: 30_000 });
      sessionId = ((await (await as(person.token)).getInfo()).control as { sessionId: string }).sessionId;
      await page.getByText('Live', { exact: true }).waitFor({ timeout: 30_000 });
      await waitFor('the control view to draw the screen', async () => ((await whitePixels(canvas)) > 400 * 300 * 0.5 ? true : undefined));
      await expect((await as(agent.token)).desktop.click(5, 5)).rejects.toMatchObject({ code: 'human_in_control' });

      // The person's click on the picture lands in the sandbox: the pointer is where the click maps on the
      // screen, and the Tk app under it logs the click there. noVNC scales the screen into the page, so
      // the point is mapped through the canvas's size; rounding may move it by a pixel.
      const target = { x: 211, y: 157 };
      const box = await canvas.boundingBox();
      if (!box) throw new Error('the live view has no box on the page');
      // The canvas's own size is the sandbox's screen (the picture is scaled to the page by CSS).
      const fb = await canvas.evaluate((el) => ({ width: (el as unknown as { width: number }).width, height: (el as unknown as { height: number }).height }));
      expect(fb).toEqual({ width: 1280, height: 800 });
      const near = (x: number, y: number) => Math.abs(x - target.x) <= 2 && Math.abs(y - target.y) <= 2;
      const clicksThere = async () =>
        (await events()).split('\n').filter((l) => {
          const m = /^click 1 (\d+) (\d+)$/.exec(l);
          return m !== null && near(Number(m[1]), Number(m[2]));
        }).length;
      const before = await clicksThere();
      // On the element (scrolled into view first: the panel is below the page's fold), at the point relative to its box.
      await canvas.click({ position: { x: ((target.x + 0.5) * box.width) / fb.width, y: ((target.y + 0.5) * box.height) / fb.height } });
      await waitFor('the takeover click to reach the sandbox', async () => ((await clicksThere()) > before ? true : undefined), 15_000);
      const pointer = await (await as(person.token)).desktop.cursor();
      expect(near(pointer.x, pointer.y), `the pointer is at ${pointer.x},${pointer.y}, not near ${target.x},${target.y}`).toBe(true);
      await page.screenshot({ path: join(shots, 'taken-over.png'), fullPage: true });
      await page.getByRole('button', { name: 'Hand back' }).click();
      await page.getByRole('button', { name: 'Take over' }).waitFor();
    } finally {
      await browser.close();
      await (await as(person.token)).handback().catch(() => {});
    }
    expect(sessionId).toMatch(/^tko-/);
    await (await as(agent.token)).desktop.move(5, 5);
  });

  it('S6: a watcher’s view-only stream moves nothing — input sent over the WebSocket is dropped, even after the sandbox swaps its view-only VNC server for one that takes input', async () => {
    await startApp();
    await sbx.commands.run("xdotool search --name '^paddock-test-app$' windowactivate --sync");
    const api = `${daemon.url.replace(/^http/, 'ws')}/v1/sandboxes/${sbx.id}/desktop/vnc`;
    const clicked = async (x: number, y: number) => (await events()).includes(`click 1 ${x} ${y}`);
    // A watcher (the agent's token) on the API's view-only stream, and on ingress's noVNC port: clicks and keys at 300,200.
    const watcher = await RfbClient.open(`${api}?mode=view`, { authorization: `Bearer ${agent.token}` });
    watcher.click(300, 200);
    watcher.key(0x7a);
    const ingress = await RfbClient.open((await sbx.desktop.stream()).websocketUrl, { authorization: `Bearer ${agent.token}` }, ['binary']);
    ingress.click(301, 201);
    // The taker's control stream, as the positive control: its click lands.
    const asPerson = await as(person.token);
    await asPerson.takeover();
    try {
      expect(await upgradeStatus(`${api}?mode=control`, { authorization: `Bearer ${agent.token}` })).toBe(403);
      const taker = await RfbClient.open(`${api}?mode=control`, { authorization: `Bearer ${person.token}` });
      taker.click(302, 202);
      await waitFor('the taker’s click', async () => ((await clicked(302, 202)) ? true : undefined));
      expect(await clicked(300, 200)).toBe(false);
      expect(await clicked(301, 201)).toBe(false);
      taker.close();
    } finally {
      await asPerson.handback();
    }
    watcher.close();
    ingress.close();

    // The sandbox rigs its own view-only port: the VNC server on 5900 now takes input (ingress's noVNC on 6080 shows it does).
    // Gone before the rigged one starts: a server still holding port 5900 would make the new one fail to listen.
    await stopVncServersOnViewPort();
    const rigged = await startRiggedVncServer();
    try {
      const direct = await rigged.connect();
      direct.click(303, 203);
      await waitFor('the rigged server to take a click', async () => ((await clicked(303, 203)) ? true : undefined));
      direct.close();
      // The API's view-only stream still moves nothing: the daemon drops the watcher's input itself.
      const again = await RfbClient.open(`${api}?mode=view`, { authorization: `Bearer ${agent.token}` });
      again.click(304, 204);
      again.key(0x7a);
      expect(await again.dropped()).toBe(true);
      await new Promise((r) => setTimeout(r, 2000));
      expect(await clicked(304, 204)).toBe(false);
      again.close();
    } finally {
      await rigged.kill();
      await sbx.commands.start('x11vnc -display :0 -localhost -rfbport 5900 -viewonly -shared -forever -nopw -quiet -noxdamage');
    }
  }, 240_000);

  it('S7: the taker’s streams with input end at the handback (the API’s and ingress’s): they are closed, and cannot be opened again', async () => {
    const api = `${daemon.url.replace(/^http/, 'ws')}/v1/sandboxes/${sbx.id}/desktop/vnc`;
    const asPerson = await as(person.token);
    await asPerson.takeover();
    let taker: RfbClient;
    let throughIngress: RfbClient;
    try {
      taker = await RfbClient.open(`${api}?mode=control`, { authorization: `Bearer ${person.token}` });
      const { websocketUrl } = await asPerson.desktop.stream({ viewOnly: false });
      throughIngress = await RfbClient.open(websocketUrl, { authorization: `Bearer ${person.token}` }, ['binary']);
    } finally {
      await asPerson.handback();
    }
    expect(await taker.closed).toBe(4001);
    // Ingress's noVNC port that takes input (6081) is cut too.
    expect(await throughIngress.closed).toBeGreaterThan(0);
    expect(await upgradeStatus(`${api}?mode=control`, { authorization: `Bearer ${person.token}` })).toBe(403);
  });

  it('asks before the agent types into a browser page on a given domain (context.domain from DevTools), and lets it type elsewhere', async () => {
    await sbx.files.write('/tmp/site/bank.html', '<title>Totally harmless</title><input id="i" autofocus>');
    await sbx.commands.start('python3 -m http.server 8000 --bind 127.0.0.1 --directory /tmp/site').catch(() => {});
    const policy = join(daemon.stateDir, 'policies', '30-desktop-test.cedar');
    writeFileSync(
      policy,
      [
        '@id("ask-typing-on-localhost")',
        '@ask("typing into a page on localhost")',
        'forbid (principal, action == Paddock::Action::"desktop.input", resource)',
        '  when { principal.ownerKind == "agent" && context has domain && context.domain == "localhost" && context has actions && context.actions.contains("type") };',
        '',
      ].join('\n'),
    );
    try {
      await waitFor('the policy', async () =>
        JSON.stringify(await (await daemon.api('/v1/policies')).json()).includes('ask-typing-on-localhost') ? true : undefined,
      );
      const { cdpUrl } = await sbx.browser.start();
      const browser = await chromium.connectOverCDP(cdpUrl, { headers: { authorization: `Bearer ${daemon.token}` } });
      try {
        const page =
          (browser.contexts()[0] ?? (await browser.newContext())).pages()[0] ?? (await (browser.contexts()[0] ?? (await browser.newContext())).newPage());
        await waitFor('the server', async () => (await page.goto('http://localhost:8000/bank.html').catch(() => null))?.ok() || undefined);
        await page.bringToFront();
      } finally {
        await browser.close().catch(() => {});
      }
      await sbx.commands.run("xdotool search --name '^Totally harmless - Chromium$' windowactivate --sync");
      const asAgent = await as(agent.token);
      const err = (await asAgent.desktop.type('secret').catch((e: unknown) => e)) as { code: string; details: { approvalId: string } };
      expect(err).toMatchObject({ code: 'approval_required' });
      const approval = await Approvals.get(err.details.approvalId, daemon.conn);
      expect(approval.context).toMatchObject({ window: 'Totally harmless - Chromium', url: 'http://localhost:8000/bank.html', domain: 'localhost' });
      // A click there is no typing; typing into the Tk app (no page, no domain) goes through.
      await asAgent.desktop.click(640, 400);
      await sbx.commands.run("xdotool search --name '^paddock-test-app$' windowactivate --sync");
      await asAgent.desktop.type('elsewhere');
      await asAgent.desktop.press('enter');
      await waitFor('the typed line', async () => ((await events()).includes('entry "elsewhere"') ? true : undefined));
    } finally {
      rmSync(policy, { force: true });
      await waitFor('the policy to go', async () =>
        JSON.stringify(await (await daemon.api('/v1/policies')).json()).includes('ask-typing-on-localhost') ? undefined : true,
      );
    }
  });
});

describe('the desktop from the CLI and MCP', () => {
  it('paddock desktop screenshot writes a PNG; click, key and type act; a bad key name exits 2 with one line', async () => {
    const file = `${daemon.stateDir}-shot.png`;
    const shot = await runCli(['desktop', 'screenshot', sbx.id, '-o', file, '--scale', '0.5'], { env: daemon.env });
    expect(shot).toMatchObject({ code: 0, stderr: '' });
    const png = PNG.sync.read(readFileSync(file));
    rmSync(file);
    expect([png.width, png.height]).toEqual([640, 400]);
    expect((await runCli(['desktop', 'click', sbx.id, '30', '40'], { env: daemon.env })).code).toBe(0);
    expect(await sbx.desktop.cursor()).toEqual({ x: 30, y: 40 });
    expect((await runCli(['desktop', 'key', sbx.id, 'ctrl+a'], { env: daemon.env })).code).toBe(0);
    const bad = await runCli(['desktop', 'key', sbx.id, 'ctrl', 'nosuchkey'], { env: daemon.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('nosuchkey');
    const view = await runCli(['desktop', 'view', sbx.id], { env: daemon.env });
    expect(view.code).toBe(0);
    expect(view.stdout.trim()).toMatch(/^http:\/\/6080-sb-[a-z0-9]+\.sandbox\.localhost:\d+\/vnc\.html\?paddock_link=pl_.*view_only=1.*path=websockify/);
  });

  it('the MCP computer-use tools answer with the screen as image content', async () => {
    const env = Object.fromEntries(Object.entries(daemon.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const transport = new StdioClientTransport({ command: process.execPath, args: [cliMain, 'mcp'], env, stderr: 'pipe' });
    const client = new Client({ name: 'desktop-test', version: '0.0.0' });
    await client.connect(transport);
    try {
      const shot = (await client.callTool({ name: 'desktop_screenshot', arguments: { sandboxId: sbx.id } })) as CallToolResult;
      expect(shot.structuredContent).toEqual({ width: 1280, height: 800 });
      const image = shot.content.find((c) => c.type === 'image');
      expect(image).toMatchObject({ type: 'image', mimeType: 'image/png' });
      const decoded = PNG.sync.read(Buffer.from(image?.type === 'image' ? image.data : '', 'base64'));
      expect([decoded.width, decoded.height]).toEqual([1280, 800]);
      const click = (await client.callTool({ name: 'desktop_click', arguments: { sandboxId: sbx.id, x: 11, y: 12 } })) as CallToolResult;
      expect(click.isError).toBeFalsy();
      expect(click.content.map((c) => c.type)).toEqual(['text', 'image']);
      expect(await sbx.desktop.cursor()).toEqual({ x: 11, y: 12 });
      const off = (await client.callTool({ name: 'desktop_click', arguments: { sandboxId: sbx.id, x: 5000, y: 12 } })) as CallToolResult;
      expect(off.isError).toBe(true);
      expect(off.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^invalid_coordinates: /) });
    } finally {
      await client.close();
    }
  });
});

const shots = fileURLToPath(new URL('../../../../test-results/desktop/', import.meta.url));

/** Pixels of the live view's canvas that are near white (the Tk app's window). */
function whitePixels(canvas: Locator): Promise<number> {
  // Runs in the page: the canvas's own 2D context (the tests' types have no DOM).
  type Canvas = {
    width: number;
    height: number;
    getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  };
  return canvas
    .evaluate(
      (el) => {
        const c = el as unknown as Canvas;
        const ctx = c.getContext('2d');
        if (!ctx || c.width === 0) return 0;
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let lit = 0;
        for (let i = 0; i < d.length; i += 4) if ((d[i] ?? 0) + (d[i + 1] ?? 0) + (d[i + 2] ?? 0) > 600) lit++;
        return lit;
      },
      undefined,
      { timeout: 2_000 },
    )
    .catch(() => 0);
}

/**
 * A minimal RFB client over a WebSocket: the handshake (3.8, security None,
 * shared), then raw pointer and key messages, as an attacker would send them.
 */
class RfbClient {
  private got = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  readonly closed: Promise<number>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      this.got = Buffer.concat([this.got, d]);
      this.waiting?.();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }

  static async open(url: string | Promise<string>, headers: Record<string, string>, protocols: string[] = []): Promise<RfbClient> {
    // An upgrade that is never answered fails the open (and a waitFor tries again) instead of hanging the test.
    const ws = new WebSocket(await url, protocols, { headers, handshakeTimeout: 15_000 });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      ws.once('error', reject);
    });
    const c = new RfbClient(ws);
    const version = await c.read(12);
    if (!version.toString('latin1').startsWith('RFB 003.')) throw new Error('no RFB greeting');
    ws.send(Buffer.from('RFB 003.008\n', 'latin1'));
    const n = (await c.read(1))[0] ?? 0;
    const types = await c.read(n);
    if (!types.includes(1)) throw new Error('the server offers no security type None');
    ws.send(Buffer.from([1]));
    if ((await c.read(4)).readUInt32BE(0) !== 0) throw new Error('the security handshake failed');
    ws.send(Buffer.from([1]));
    const init = await c.read(24);
    await c.read(init.readUInt32BE(20));
    return c;
  }

  private async read(n: number): Promise<Buffer> {
    const deadline = Date.now() + 15_000;
    while (this.got.length < n) {
      if (Date.now() > deadline) throw new Error(`RFB: waited for ${n} bytes`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 200);
      });
    }
    const out = this.got.subarray(0, n);
    this.got = this.got.subarray(n);
    return out;
  }

  click(x: number, y: number): void {
    const at = (mask: number) => Buffer.from([5, mask, x >> 8, x & 0xff, y >> 8, y & 0xff]);
    this.ws.send(Buffer.concat([at(0), at(1), at(0)]));
  }

  key(keysym: number): void {
    const k = (down: number) => Buffer.from([4, down, 0, 0, (keysym >> 24) & 0xff, (keysym >> 16) & 0xff, (keysym >> 8) & 0xff, keysym & 0xff]);
    this.ws.send(Buffer.concat([k(1), k(0)]));
  }

  /** The stream is still open after what was sent (the daemon dropped it rather than failing). */
  async dropped(): Promise<boolean> {
    const open = await Promise.race([this.closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 1000))]);
    return open && this.ws.readyState === WebSocket.OPEN;
  }

  close(): void {
    this.ws.close();
  }
}

/** The HTTP status a WebSocket upgrade gets (101 when it opens). */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.once('error', reject);
  });
}

/** The first bytes a VNC server sends over the noVNC WebSocket (its protocol version). */
function rfbGreeting(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary'], { headers });
    const timer = setTimeout(() => reject(new Error('no RFB greeting')), 15_000);
    ws.once('message', (data) => {
      clearTimeout(timer);
      ws.close();
      resolve(Buffer.from(data as Buffer).toString('latin1'));
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
