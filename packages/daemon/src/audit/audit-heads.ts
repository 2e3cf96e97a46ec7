import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AuditVerification } from '@paddock/core';
import type { Db } from '../store/database.js';
import { type AuditRow, chainedFieldsOf, genesisHash, recordHash } from './audit-chain.js';

interface HeadRow {
  seq: number;
  hash: string;
  signed_at: string;
  signature: string;
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
  ) {
    this.publicKey = createPublicKey(key);
  }

  /** Signs the current head unless it is already signed; returns the seq signed, if any. */
  signHead(): number | null {
    const last = this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    if (!last) return null;
    const latest = this.db.prepare('SELECT seq FROM audit_heads ORDER BY seq DESC LIMIT 1').get() as { seq: number } | undefined;
    if (latest && latest.seq >= last.seq) return null;
    const head = { seq: last.seq, hash: last.hash, signed_at: new Date().toISOString() };
    const signature = sign(null, Buffer.from(signedText(head)), this.key).toString('base64');
    this.db.prepare('INSERT INTO audit_heads (seq, hash, signed_at, signature) VALUES (?, ?, ?, ?)').run(head.seq, head.hash, head.signed_at, signature);
    return head.seq;
  }

  /** Signs at an interval while the daemon runs. */
  startSigning(intervalMs: number): () => void {
    const timer = setInterval(() => this.signHead(), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Walks the whole chain and checks it against every signed head. */
  verify(): AuditVerification {
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
    const heads = this.db.prepare('SELECT * FROM audit_heads ORDER BY seq').all() as HeadRow[];
    for (const head of heads) {
      if (!verify(null, Buffer.from(signedText(head)), this.publicKey, Buffer.from(head.signature, 'base64'))) {
        problems.push({ seq: head.seq, problem: 'bad_signature', message: `the signed head at ${head.seq} does not verify with this daemon's key` });
        continue;
      }
      const hash = hashesBySeq.get(head.seq);
      if (hash === undefined && head.seq > prevSeq) {
        problems.push({
          seq: head.seq,
          problem: 'truncated',
          message: `the log ends at ${prevSeq}, but a head signed at ${head.signed_at} covered up to ${head.seq}`,
        });
      } else if (hash !== head.hash) {
        problems.push({
          seq: head.seq,
          problem: 'edited',
          message: `record ${head.seq} differs from the head signed at ${head.signed_at}: the chain was rewritten`,
        });
      }
    }
    const latest = heads.at(-1);
    return {
      ok: problems.length === 0,
      records,
      head: latest ? { seq: latest.seq, hash: latest.hash, signedAt: latest.signed_at } : null,
      problems: dedupe(problems),
    };
  }
}

/** One truncation is reported once, at the latest head that shows it. */
function dedupe(problems: AuditVerification['problems']): AuditVerification['problems'] {
  const truncations = problems.filter((p) => p.problem === 'truncated');
  return [...problems.filter((p) => p.problem !== 'truncated'), ...truncations.slice(-1)];
}
