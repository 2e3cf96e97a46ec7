import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AuditVerification } from '@paddock/core';
import type { Logger } from 'pino';
import type { Db } from '../store/database.js';
import { type AnchoredHead, type ChainView, checkAnchorSource, checkDatabaseAnchors, checkSuppliedAgainstLog } from './audit-anchor-check.js';
import { type AuditAnchors, anchorHash, parseAnchorLines } from './audit-anchors.js';
import { type AuditRow, chainedFieldsOf, genesisHash, recordHash } from './audit-chain.js';

interface HeadRow {
  seq: number;
  hash: string;
  signed_at: string;
  signature: string;
  anchor: number | null;
  anchor_hash: string | null;
}

/** Reads the Ed25519 key that signs audit heads, creating it (mode 0600) on first start. */
export function loadOrCreateSigningKey(file: string): KeyObject {
  if (existsSync(file)) return createPrivateKey(readFileSync(file));
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return privateKey;
}

const signedText = (h: { seq: number; hash: string; signed_at: string }) => `paddock-audit-head\n${h.seq}\n${h.hash}\n${h.signed_at}`;

/**
 * Signs the head of the audit chain (its last seq and hash) from time to time.
 * Hashes alone prove order and integrity between records; the signed head
 * also proves that nothing was cut off the end or re-chained since it was
 * signed, by anyone without the key.
 */
export class AuditHeads {
  private readonly publicKey: KeyObject;

  constructor(
    private readonly db: Db,
    private readonly key: KeyObject,
    private readonly anchors: AuditAnchors,
    private readonly logger: Logger,
  ) {
    this.publicKey = createPublicKey(key);
    const named = db.prepare('SELECT anchor, anchor_hash AS hash FROM audit_heads WHERE anchor IS NOT NULL ORDER BY seq DESC LIMIT 1').get() as
      | { anchor: number; hash: string }
      | undefined;
    anchors.continueChain(named ?? null);
    this.sayIfDatabaseFallsShort();
  }

  /** Said at start, where an operator looks first; verify says it with the signatures checked. */
  private sayIfDatabaseFallsShort(): void {
    const newest = this.anchors.read()?.anchors.at(-1);
    if (!newest) return;
    const row = this.db.prepare('SELECT hash FROM audit WHERE seq = ?').get(newest.seq) as { hash: string } | undefined;
    if (row?.hash === newest.hash) return;
    this.logger.error(
      { anchorLog: this.anchors.path, anchor: newest.anchor, seq: newest.seq },
      'the audit log does not hold the record the newest anchor covers: it was cut back, rewritten or replaced; paddock audit verify reports it',
    );
  }

  /** Signs the current head unless it is already signed, and anchors it outside the database; returns the seq signed, if any. */
  signHead(): number | null {
    const last = this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    if (!last) return null;
    const latest = this.db.prepare('SELECT seq FROM audit_heads ORDER BY seq DESC LIMIT 1').get() as { seq: number } | undefined;
    if (latest && latest.seq >= last.seq) return null;
    const head = { seq: last.seq, hash: last.hash, signed_at: new Date().toISOString() };
    const signature = sign(null, Buffer.from(signedText(head)), this.key).toString('base64');
    const anchor = this.anchor(head);
    this.db
      .prepare('INSERT INTO audit_heads (seq, hash, signed_at, signature, anchor, anchor_hash) VALUES (?, ?, ?, ?, ?, ?)')
      .run(head.seq, head.hash, head.signed_at, signature, anchor?.anchor ?? null, anchor?.hash ?? null);
    return head.seq;
  }

  /**
   * The anchor goes to disk (synced) before the head is stored. The records it
   * covers are made durable first: with synchronous=NORMAL a commit waits for
   * the next checkpoint, and a power cut must not leave an anchor the
   * database never reaches (verify would call that tampering).
   */
  private anchor(head: { seq: number; hash: string; signed_at: string }): { anchor: number; hash: string } | null {
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
      const written = this.anchors.append({ seq: head.seq, hash: head.hash, signedAt: head.signed_at });
      return { anchor: written.anchor, hash: anchorHash(written) };
    } catch (err) {
      // The head is still signed in the database; verify shows the anchor log falling behind.
      this.logger.error({ err, anchorLog: this.anchors.path }, 'an audit anchor could not be written');
      return null;
    }
  }

  /** Signs at an interval while the daemon runs. */
  startSigning(intervalMs: number): () => void {
    const timer = setInterval(() => {
      try {
        this.signHead();
      } catch (err) {
        this.logger.error({ err }, 'signing the audit head failed');
      }
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Walks the whole chain and checks it against every signed head in the
   * database, every anchor in the anchor log, and the anchors a caller supplies
   * (JSON lines, e.g. a copy shipped off the box).
   */
  verify(supplied?: string): AuditVerification {
    const { chain, records, problems: chainProblems } = this.walkChain();
    const heads = this.db.prepare('SELECT * FROM audit_heads ORDER BY seq').all() as HeadRow[];
    const problems = dedupe([...chainProblems, ...this.checkHeads(heads, chain)]);
    const key = { publicKey: this.publicKey, fingerprint: this.anchors.fingerprint };
    const log = this.anchors.read();
    const location = this.anchors.path;
    const anchors = [checkAnchorSource({ source: 'anchor-log', location, read: log ?? { anchors: [], unreadable: [] } }, chain, key, problems)];
    const anchoredHeads: AnchoredHead[] = heads.flatMap((h) =>
      h.anchor !== null && h.anchor_hash ? [{ seq: h.seq, anchor: h.anchor, anchorHash: h.anchor_hash }] : [],
    );
    checkDatabaseAnchors(anchoredHeads, log, location, problems);
    if (supplied !== undefined) {
      const check = checkAnchorSource({ source: 'supplied', location: 'request', read: parseAnchorLines(supplied) }, chain, key, problems);
      checkSuppliedAgainstLog(check, log, location, problems);
      anchors.push(check);
    }
    const latest = heads.at(-1);
    return {
      ok: problems.length === 0,
      records,
      heads: heads.length,
      head: latest ? { seq: latest.seq, hash: latest.hash, signedAt: latest.signed_at } : null,
      anchors,
      problems,
    };
  }

  private walkChain(): { chain: ChainView; records: number; problems: AuditVerification['problems'] } {
    const problems: AuditVerification['problems'] = [];
    const hashesBySeq = new Map<number, string>();
    let prevHash = genesisHash;
    let prevSeq = 0;
    let records = 0;
    for (const row of this.db.prepare('SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<AuditRow>) {
      records++;
      const stored = row.hash ?? '';
      const ownHashValid = recordHash(chainedFieldsOf(row, row.prev_hash ?? '')) === stored;
      if (!ownHashValid) {
        problems.push({ seq: row.seq, problem: 'edited', message: `record ${row.seq} does not match its hash: it was changed after it was written` });
      } else if (row.prev_hash !== prevHash) {
        const gap = row.seq !== prevSeq + 1;
        problems.push(
          gap
            ? { seq: row.seq, problem: 'missing', message: `records between ${prevSeq} and ${row.seq} are gone (the chain breaks there)` }
            : { seq: row.seq, problem: 'reordered', message: `record ${row.seq} is intact but does not follow record ${prevSeq}: records were moved` },
        );
      }
      hashesBySeq.set(row.seq, stored);
      prevHash = stored;
      prevSeq = row.seq;
    }
    return { chain: { hashesBySeq, lastSeq: prevSeq }, records, problems };
  }

  private checkHeads(heads: HeadRow[], chain: ChainView): AuditVerification['problems'] {
    const problems: AuditVerification['problems'] = [];
    for (const head of heads) {
      if (!verify(null, Buffer.from(signedText(head)), this.publicKey, Buffer.from(head.signature, 'base64'))) {
        problems.push({ seq: head.seq, problem: 'bad_signature', message: `the signed head at ${head.seq} does not verify with this daemon's key` });
        continue;
      }
      const hash = chain.hashesBySeq.get(head.seq);
      if (hash === undefined && head.seq > chain.lastSeq) {
        problems.push({
          seq: head.seq,
          problem: 'truncated',
          message: `the log ends at ${chain.lastSeq}, but a head signed at ${head.signed_at} covered up to ${head.seq}`,
        });
      } else if (hash !== head.hash) {
        problems.push({
          seq: head.seq,
          problem: 'edited',
          message: `record ${head.seq} differs from the head signed at ${head.signed_at}: the chain was rewritten`,
        });
      }
    }
    return problems;
  }
}

/** One truncation is reported once, at the latest head that shows it. */
function dedupe(problems: AuditVerification['problems']): AuditVerification['problems'] {
  const truncations = problems.filter((p) => p.problem === 'truncated');
  return [...problems.filter((p) => p.problem !== 'truncated'), ...truncations.slice(-1)];
}
