import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditAnchors } from '../audit/audit-anchors.js';
import { untilHeadSigned } from '../testing/audit-wait.js';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';

// Section F of SECURITY-PROBES.md, continued: someone with root on the host
// edits the database and the files beside it. The heads signed in the database
// are no witness against that; the anchor log beside it, the database's memory
// of that log, and a copy shipped off the box are.
interface Verdict {
  ok: boolean;
  records: number;
  heads: number;
  anchors: Array<{ source: string; location: string; checked: number; newest: { anchor: number; seq: number } | null; reached: boolean }>;
  problems: Array<{ seq: number | null; problem: string; message: string }>;
}

let daemon: TestDaemon;
const extraDirs: string[] = [];

afterEach(async () => {
  await daemon?.stop();
  for (const dir of extraDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start(env: NodeJS.ProcessEnv = {}): Promise<void> {
  daemon = await startFastDaemon([], { PADDOCK_AUDIT_SIGN_INTERVAL_MS: '100', ...env });
}

/** Some audited calls, then their head signed and anchored. */
async function history(calls = 6): Promise<void> {
  for (let i = 0; i < calls; i++) await daemon.api('/v1/sandboxes');
  await untilHeadSigned(daemon.stateDir);
}

async function verdict(anchors?: string): Promise<Verdict> {
  const res =
    anchors === undefined
      ? await daemon.api('/v1/audit/verify')
      : await daemon.api('/v1/audit/verify', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ anchors }) });
  expect(res.status).toBe(200);
  return (await res.json()) as Verdict;
}

const anchorLog = () => `${daemon.stateDir}/audit-anchors.log`;
const dbFiles = () => ['paddock.db', 'paddock.db-wal', 'paddock.db-shm'].map((f) => `${daemon.stateDir}/${f}`);

/** The attacker has the database file: the append-only triggers are no obstacle. */
function openAsRoot(): Database.Database {
  const db = new Database(`${daemon.stateDir}/paddock.db`);
  db.exec(`DROP TRIGGER audit_append_only_update; DROP TRIGGER audit_append_only_delete;
           DROP TRIGGER audit_heads_append_only_update; DROP TRIGGER audit_heads_append_only_delete;`);
  return db;
}

/** Cuts the audit table and its heads back to `seq`, the sequence too, so new records take the old numbers. */
function cutDatabase(db: Database.Database, seq: number): void {
  db.prepare('DELETE FROM audit WHERE seq > ?').run(seq);
  db.prepare('DELETE FROM audit_heads WHERE seq > ?').run(seq);
  db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit'").run(seq);
}

/** The copy is written off the event loop, after the anchor log: wait for it to catch up. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  expect(condition()).toBe(true);
}

function newestAnchorIn(file: string, text = existsSync(file) ? readFileSync(file, 'utf8') : ''): number {
  const last = text.trimEnd().split('\n').at(-1);
  return last ? (JSON.parse(last) as { anchor: number }).anchor : 0;
}

async function intactWithAnchors(): Promise<Verdict> {
  const before = await verdict();
  expect(before).toMatchObject({ ok: true, anchors: [{ source: 'anchor-log', reached: true }] });
  expect(before.heads).toBeGreaterThan(0);
  expect(before.anchors[0]?.newest?.anchor).toBeGreaterThan(0);
  return before;
}

describe('the anchor log outside the database', () => {
  it('continues its chain across a restart, and verify says what it checked', async () => {
    await start();
    await history();
    const before = await intactWithAnchors();
    expect(before.anchors[0]?.location).toBe(anchorLog());
    await daemon.crash();
    await daemon.restart();
    await history();
    const after = await verdict();
    expect(after.problems).toEqual([]);
    expect(after.anchors[0]?.newest?.anchor).toBeGreaterThan(before.anchors[0]?.newest?.anchor ?? 0);
    expect(after.records).toBeGreaterThan(before.records);
    expect(after.heads).toBeGreaterThan(before.heads);
  });
});

describe('a crash in the middle of writing an anchor', () => {
  it('leaves a torn line that verify names, and the anchors after it on lines of their own', async () => {
    await start();
    await history();
    await intactWithAnchors();
    await daemon.crash();
    const lines = readFileSync(anchorLog(), 'utf8').trimEnd().split('\n');
    writeFileSync(anchorLog(), `${readFileSync(anchorLog(), 'utf8')}${(lines.at(-1) ?? '').slice(0, 40)}`);
    await daemon.restart();
    await history();
    const after = await verdict();
    expect(after.problems).toEqual([
      { seq: null, problem: 'anchor_unreadable', message: `line ${lines.length + 1} of the anchor log (${anchorLog()}): not an anchor` },
    ]);
    expect(after.anchors[0]).toMatchObject({ reached: true, checked: expect.any(Number) });
    expect(after.anchors[0]?.newest?.anchor).toBeGreaterThan(lines.length);
  });
});

describe('F5: the end of the audit table and the heads that covered it, deleted through the database file', () => {
  it('is found: the anchor log still covers the records that are gone', async () => {
    await start();
    await history();
    const before = await intactWithAnchors();
    await daemon.crash();
    const db = openAsRoot();
    cutDatabase(db, (before.anchors[0]?.newest?.seq ?? 0) - 3);
    db.close();
    await daemon.restart();
    expect(daemon.log()).toMatch(/the audit log does not hold the record the newest anchor covers/);
    const after = await verdict();
    expect(after.ok).toBe(false);
    expect(after.problems).toContainEqual(
      expect.objectContaining({
        problem: expect.stringMatching(/^(truncated|edited)$/),
        message: expect.stringMatching(
          /anchor #\d+ in the anchor log \(.*audit-anchors\.log\), signed at .*: (records were cut off the end|the chain was rewritten)/,
        ),
      }),
    );
    expect(after.anchors[0]).toMatchObject({ source: 'anchor-log', reached: expect.any(Boolean) });
  });
});

describe('F6: the database replaced by a fresh one', () => {
  it('is found: the anchors cover records the new database does not hold', async () => {
    await start();
    await history();
    await intactWithAnchors();
    await daemon.crash();
    for (const file of dbFiles()) rmSync(file, { force: true });
    await daemon.restart();
    await history();
    const after = await verdict();
    expect(after.ok).toBe(false);
    expect(after.problems.map((p) => p.message).join('\n')).toMatch(
      /anchor #\d+ in the anchor log .*(records were cut off the end|the chain was rewritten) or the database was replaced/,
    );
  });
});

describe('F7: the anchor log cut back or removed', () => {
  it('cut back: the heads in the database name anchors the log no longer has', async () => {
    await start();
    await history();
    await intactWithAnchors();
    await history();
    await daemon.crash();
    const lines = readFileSync(anchorLog(), 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    writeFileSync(anchorLog(), `${lines.slice(0, -1).join('\n')}\n`);
    await daemon.restart();
    const after = await verdict();
    expect(after.ok).toBe(false);
    expect(after.problems).toContainEqual(
      expect.objectContaining({ problem: 'anchor_log_truncated', message: expect.stringMatching(/was anchored as #\d+, but the anchor log .* ends at #\d+/) }),
    );
  });

  it('removed: reported at start and by verify, not started afresh as if nothing had been there', async () => {
    await start();
    await history();
    await intactWithAnchors();
    await daemon.crash();
    rmSync(anchorLog());
    await daemon.restart();
    expect(daemon.log()).toMatch(/the audit anchor log is missing although the database names anchors/);
    // Missing, or (once the next head is anchored) begun again at a number that shows the loss.
    const first = await verdict();
    expect(first.ok).toBe(false);
    expect(first.problems.map((p) => p.problem)).toEqual(expect.arrayContaining([expect.stringMatching(/^(anchor_log_missing|anchor_chain_broken)$/)]));
    // New anchors go to a new file, numbered on from the lost ones: the loss stays visible.
    await history();
    expect(existsSync(anchorLog())).toBe(true);
    const later = await verdict();
    expect(later.ok).toBe(false);
    expect(later.problems).toContainEqual(
      expect.objectContaining({ problem: 'anchor_chain_broken', message: expect.stringMatching(/starts at anchor #\d+: the anchors before it are gone/) }),
    );
  });
});

describe('F8: an anchor log rewritten to match a cut database, signed with another key', () => {
  it('is found: the anchors do not verify with the daemon’s key', async () => {
    await start();
    await history();
    const before = await intactWithAnchors();
    await daemon.crash();
    const db = openAsRoot();
    const cut = (before.anchors[0]?.newest?.seq ?? 0) - 3;
    cutDatabase(db, cut);
    // No anchors in the database to give the rewrite away, and a fresh log that matches what is left.
    db.exec('UPDATE audit_heads SET anchor = NULL, anchor_hash = NULL');
    const last = db.prepare('SELECT seq, hash FROM audit WHERE seq = ?').get(cut) as { seq: number; hash: string };
    db.close();
    rmSync(anchorLog());
    const { privateKey } = generateKeyPairSync('ed25519');
    new AuditAnchors({ path: anchorLog(), key: privateKey, logger: pino({ level: 'silent' }) }).append({ ...last, signedAt: new Date().toISOString() });
    await daemon.restart();
    const after = await verdict();
    expect(after.ok).toBe(false);
    expect(after.problems).toContainEqual(
      expect.objectContaining({ problem: 'bad_signature', message: expect.stringMatching(/anchor #1 in the anchor log .* is signed by another key/) }),
    );
  });
});

describe('F9: the database and the anchor log both rolled back to an earlier copy', () => {
  it('passes on the box, and is caught by the anchors shipped off it', async () => {
    const shipDir = mkdtempSync('/tmp/paddock-anchors-shipped-');
    extraDirs.push(shipDir);
    const shipped = `${shipDir}/anchors.log`;
    await start({ PADDOCK_AUDIT_ANCHOR_FILE: shipped });
    await history();
    await intactWithAnchors();
    await daemon.crash();
    const saved = mkdtempSync('/tmp/paddock-anchors-saved-');
    extraDirs.push(saved);
    for (const file of [...dbFiles(), anchorLog()]) if (existsSync(file)) copyFileSync(file, `${saved}/${file.split('/').at(-1)}`);
    await daemon.restart();
    await history();
    const newestOnBox = (await verdict()).anchors[0]?.newest?.anchor ?? 0;
    await until(() => newestAnchorIn(shipped) >= newestOnBox);
    // What the operator had shipped off the box by then.
    const shippedCopy = readFileSync(shipped, 'utf8');
    await daemon.crash();
    for (const file of [...dbFiles(), anchorLog()]) {
      rmSync(file, { force: true });
      const copy = `${saved}/${file.split('/').at(-1)}`;
      if (existsSync(copy)) copyFileSync(copy, file);
    }
    await daemon.restart();
    // Everything on the box agrees with itself again.
    expect((await verdict()).problems).toEqual([]);
    const checked = await verdict(shippedCopy);
    expect(checked.ok).toBe(false);
    expect(checked.anchors[1]).toMatchObject({ source: 'supplied', newest: { anchor: newestAnchorIn(shipped, shippedCopy) }, reached: false });
    expect(checked.problems).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/in the supplied anchors, signed at/) }));
    expect(checked.problems).toContainEqual(
      expect.objectContaining({
        problem: expect.stringMatching(/^(anchor_log_truncated|anchor_chain_broken)$/),
        message: expect.stringMatching(/supplied anchor/),
      }),
    );
    // The external file itself, still written by the rolled-back daemon, holds the fork.
    const beforeFork = readFileSync(shipped, 'utf8');
    await history();
    // The copy off the box is written after the anchor log: wait for the rolled-back daemon's anchor to reach it.
    await until(() => readFileSync(shipped, 'utf8').length > beforeFork.length);
    const live = await verdict(readFileSync(shipped, 'utf8'));
    expect(live.problems).toContainEqual(
      expect.objectContaining({
        problem: 'anchor_chain_broken',
        message: expect.stringMatching(/in the supplied anchors comes again after #\d+: the daemon was rolled back/),
      }),
    );
  });

  it('supplied lines that are not anchors, or anchors by another key, are named as such', async () => {
    await start();
    await history();
    const forged = mkdtempSync('/tmp/paddock-anchors-forged-');
    extraDirs.push(forged);
    const { privateKey } = generateKeyPairSync('ed25519');
    new AuditAnchors({ path: `${forged}/a.log`, key: privateKey, logger: pino({ level: 'silent' }) }).append({
      seq: 1,
      hash: 'f'.repeat(64),
      signedAt: new Date().toISOString(),
    });
    const checked = await verdict(`{"anchor": "not a number"}\n\u001b[2J garbage\n${readFileSync(`${forged}/a.log`, 'utf8')}`);
    expect(checked.ok).toBe(false);
    expect(checked.problems).toContainEqual(
      expect.objectContaining({ problem: 'anchor_unreadable', message: 'lines 1, 2 of the supplied anchors: not an anchor' }),
    );
    expect(checked.problems).toContainEqual(expect.objectContaining({ problem: 'bad_signature', message: expect.stringMatching(/is signed by another key/) }));
    expect(checked.anchors[1]).toMatchObject({ source: 'supplied', checked: 3, newest: null, reached: false });
    // More than one request takes is refused whole, with a code, before anything is parsed.
    const tooMuch = await daemon.api('/v1/audit/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ anchors: 'x'.repeat(1024 * 1024 + 1) }),
    });
    expect(tooMuch.status).toBe(400);
    expect(((await tooMuch.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });
});
