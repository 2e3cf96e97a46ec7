import { createHash, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { closeSync, constants, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { type AuditAnchor, AuditAnchorSchema, canonicalJson } from '@paddock/core';
import type { Logger } from 'pino';

/** prev of the first anchor. */
export const anchorGenesis = '0'.repeat(64);

export type UnsignedAnchor = Omit<AuditAnchor, 'signature'>;

/** What the signature covers and the next anchor's prev hashes: every field but the signature. */
const signedAnchorText = (a: UnsignedAnchor) =>
  `paddock-audit-anchor\n${canonicalJson({ anchor: a.anchor, seq: a.seq, hash: a.hash, signedAt: a.signedAt, prev: a.prev, key: a.key })}`;

export function anchorHash(a: UnsignedAnchor): string {
  return createHash('sha256').update(signedAnchorText(a)).digest('hex');
}

/** SHA-256 (hex, first 16) of the raw Ed25519 public key: names a key in messages, proves nothing. */
export function keyFingerprint(key: KeyObject): string {
  const raw = createPublicKey(key).export({ type: 'spki', format: 'der' }).subarray(-32);
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

export function anchorSignatureValid(a: AuditAnchor, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(signedAnchorText(a)), publicKey, Buffer.from(a.signature, 'base64'));
  } catch {
    return false;
  }
}

export interface ReadAnchors {
  anchors: AuditAnchor[];
  /** 1-based numbers of lines that are not an anchor. */
  unreadable: number[];
}

/** Anchor lines as written to the log; anything else (a torn last line, garbage) is counted, not trusted. */
export function parseAnchorLines(text: string): ReadAnchors {
  const anchors: AuditAnchor[] = [];
  const unreadable: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      unreadable.push(i + 1);
      return;
    }
    const parsed = AuditAnchorSchema.safeParse(value);
    if (parsed.success) anchors.push(parsed.data);
    else unreadable.push(i + 1);
  });
  return { anchors, unreadable };
}

export interface AuditAnchorsOptions {
  /** The anchor log: in the state folder, outside the database. */
  path: string;
  key: KeyObject;
  /** Also append each anchor here (a file on another mount, a pipe a shipper reads). */
  externalFile?: string;
  /** Also hands each anchor here (the OpenTelemetry log export, when telemetry is on). */
  onAnchor?: (anchor: AuditAnchor) => void;
  logger: Logger;
}

/**
 * Signed heads written outside the database, to an append-only file of JSON
 * lines, each chained to the one before. Someone who deletes the end of the
 * audit table and the heads that covered it (both live in the database) still
 * leaves anchors that the database no longer reaches; someone who cuts the
 * anchor log back leaves heads in the database naming anchors that are gone.
 * A copy shipped off the box (externalFile) catches a rollback of both.
 */
export class AuditAnchors {
  readonly path: string;
  readonly fingerprint: string;
  private last: { anchor: number; hash: string } | null = null;
  private external: Promise<void> = Promise.resolve();

  constructor(private readonly options: AuditAnchorsOptions) {
    this.path = options.path;
    this.fingerprint = keyFingerprint(options.key);
  }

  /** The anchor log as it is now; null when the file does not exist. */
  read(): ReadAnchors | null {
    if (!existsSync(this.path)) return null;
    return parseAnchorLines(readFileSync(this.path, 'utf8'));
  }

  /**
   * Picks up the chain where it ended: the log's last anchor, or the last one
   * the database's heads name when that is newer (the log lost its end, or the
   * whole file). Continuing from the newer one leaves the gap for verify to show,
   * rather than numbering anchors anew as if nothing had been there.
   */
  continueChain(namedByDatabase: { anchor: number; hash: string } | null): void {
    this.endTornLine();
    const log = this.read();
    const inLog = log?.anchors.at(-1);
    const fromLog = inLog ? { anchor: inLog.anchor, hash: anchorHash(inLog) } : null;
    this.last = namedByDatabase && (!fromLog || namedByDatabase.anchor > fromLog.anchor) ? namedByDatabase : fromLog;
    if (namedByDatabase && !log) {
      this.options.logger.error(
        { anchorLog: this.path, lastAnchor: namedByDatabase.anchor },
        'the audit anchor log is missing although the database names anchors up to this one; paddock audit verify reports it',
      );
    } else if (namedByDatabase && fromLog && namedByDatabase.anchor > fromLog.anchor) {
      this.options.logger.error(
        { anchorLog: this.path, lastAnchor: namedByDatabase.anchor, lastInLog: fromLog.anchor },
        'the audit anchor log ends before the last anchor the database names; paddock audit verify reports it',
      );
    }
  }

  /**
   * A crash in the middle of a write leaves a line without its end; the next
   * anchor must not be glued to it. The torn line stays, and verify names it.
   */
  private endTornLine(): void {
    if (!existsSync(this.path)) return;
    const text = readFileSync(this.path, 'utf8');
    if (text === '' || text.endsWith('\n')) return;
    this.options.logger.warn({ anchorLog: this.path }, 'the audit anchor log ends in the middle of a line; the next anchor starts a new one');
    this.appendSynced('\n');
  }

  /** Signs an anchor for a head, appends it to the log (synced to disk) and hands it to the external sink. */
  append(head: { seq: number; hash: string; signedAt: string }): AuditAnchor {
    const unsigned: UnsignedAnchor = {
      anchor: (this.last?.anchor ?? 0) + 1,
      seq: head.seq,
      hash: head.hash,
      signedAt: head.signedAt,
      prev: this.last?.hash ?? anchorGenesis,
      key: this.fingerprint,
    };
    const anchor: AuditAnchor = { ...unsigned, signature: sign(null, Buffer.from(signedAnchorText(unsigned)), this.options.key).toString('base64') };
    const line = `${JSON.stringify(anchor)}\n`;
    this.appendSynced(line);
    this.last = { anchor: anchor.anchor, hash: anchorHash(unsigned) };
    this.ship(line);
    try {
      this.options.onAnchor?.(anchor);
    } catch (err) {
      this.options.logger.warn({ err }, 'an audit anchor could not be exported');
    }
    return anchor;
  }

  /**
   * Opened per anchor (one every signing interval at most): a log replaced or
   * removed behind the daemon's back gets the next anchor, not a stale inode.
   */
  private appendSynced(text: string): void {
    const fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Waits for what the external sink still has to write. */
  flush(): Promise<void> {
    return this.external;
  }

  /**
   * One write at a time, off the event loop: a pipe without a reader or a slow
   * mount delays the copy, never the daemon. A failed copy is logged; the
   * anchor log keeps the anchor either way.
   */
  private ship(line: string): void {
    const file = this.options.externalFile;
    if (!file) return;
    this.external = this.external.then(() =>
      appendSyncedTo(file, line).catch((err: unknown) =>
        this.options.logger.warn({ err, file }, 'an audit anchor could not be copied to the external anchor file'),
      ),
    );
  }
}

/** Appends and syncs where syncing means something (a pipe or a character device cannot be synced). */
async function appendSyncedTo(file: string, line: string): Promise<void> {
  const handle = await open(file, 'a', 0o600);
  try {
    await handle.write(line);
    if ((await handle.stat()).isFile()) await handle.sync();
  } finally {
    await handle.close();
  }
}
