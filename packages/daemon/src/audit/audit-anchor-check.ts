import type { KeyObject } from 'node:crypto';
import type { AuditAnchor, AuditAnchorCheck, AuditVerification } from '@paddock/core';
import { anchorGenesis, anchorHash, anchorSignatureValid, type ReadAnchors } from './audit-anchors.js';

type Problems = AuditVerification['problems'];

/** The database's chain as verify walked it. */
export interface ChainView {
  hashesBySeq: Map<number, string>;
  lastSeq: number;
}

export interface AnchorSource {
  source: AuditAnchorCheck['source'];
  location: string;
  read: ReadAnchors;
}

export interface SigningKey {
  publicKey: KeyObject;
  fingerprint: string;
}

const labelOf = (s: Pick<AnchorSource, 'source' | 'location'>) => (s.source === 'anchor-log' ? `the anchor log (${s.location})` : 'the supplied anchors');
const inAll = (n: number, what: string) => (n > 1 ? ` (${n} ${what} in all)` : '');

/**
 * Checks one source of anchors: each line is an anchor, each anchor is signed
 * by this daemon's key and follows the one before it, and the database still
 * holds, with the same hash, every record an anchor covers. Returns what the
 * newest good anchor is and whether the database reaches it.
 */
export function checkAnchorSource(src: AnchorSource, chain: ChainView, key: SigningKey, problems: Problems): AuditAnchorCheck {
  const label = labelOf(src);
  const { anchors, unreadable } = src.read;
  if (unreadable.length > 0) {
    const lines = unreadable.slice(0, 10).join(', ') + (unreadable.length > 10 ? ' …' : '');
    problems.push({ seq: null, problem: 'anchor_unreadable', message: `line${unreadable.length === 1 ? '' : 's'} ${lines} of ${label}: not an anchor` });
  }
  const signed = anchors.filter((a) => anchorSignatureValid(a, key.publicKey));
  const forged = anchors.filter((a) => !signed.includes(a));
  const firstForged = forged[0];
  if (firstForged) {
    const why =
      firstForged.key === key.fingerprint
        ? 'does not verify with this daemon’s key: it was changed after it was signed'
        : `is signed by another key (${firstForged.key}; this daemon’s is ${key.fingerprint})`;
    problems.push({
      seq: firstForged.seq,
      problem: 'bad_signature',
      message: `anchor #${firstForged.anchor} in ${label} ${why}${inAll(forged.length, 'such anchors')}`,
    });
  }
  checkLinks(src, anchors, problems);
  const unreached = signed.filter((a) => chain.hashesBySeq.get(a.seq) !== a.hash);
  const newestUnreached = unreached.at(-1);
  if (newestUnreached) problems.push(notReached(newestUnreached, label, chain, unreached.length));
  const newest = signed.at(-1);
  return {
    source: src.source,
    location: src.location,
    checked: anchors.length + unreadable.length,
    newest: newest ? { anchor: newest.anchor, seq: newest.seq, hash: newest.hash, signedAt: newest.signedAt } : null,
    reached: !!newest && newest !== newestUnreached,
  };
}

/** Each anchor names the one before it; the log (not a supplied tail of it) starts at the first. */
function checkLinks(src: AnchorSource, anchors: AuditAnchor[], problems: Problems): void {
  const label = labelOf(src);
  const first = anchors[0];
  if (src.source === 'anchor-log' && first && (first.anchor !== 1 || first.prev !== anchorGenesis)) {
    problems.push({ seq: first.seq, problem: 'anchor_chain_broken', message: `${label} starts at anchor #${first.anchor}: the anchors before it are gone` });
  }
  const breaks = anchors.slice(1).filter((a, i) => {
    const before = anchors[i] as AuditAnchor;
    return a.anchor !== before.anchor + 1 || a.prev !== anchorHash(before);
  });
  const firstBreak = breaks[0];
  if (firstBreak) {
    const before = anchors[anchors.indexOf(firstBreak) - 1] as AuditAnchor;
    // A daemon rolled back to an earlier copy numbers its anchors on from there: an external copy then holds a number twice.
    const why =
      firstBreak.anchor <= before.anchor
        ? `comes again after #${before.anchor}: the daemon was rolled back to an earlier state and went on from there`
        : 'does not follow the anchor before it: anchors were removed, inserted or rewritten there';
    problems.push({
      seq: firstBreak.seq,
      problem: 'anchor_chain_broken',
      message: `anchor #${firstBreak.anchor} in ${label} ${why}${inAll(breaks.length, 'breaks')}`,
    });
  }
}

function notReached(a: AuditAnchor, label: string, chain: ChainView, count: number): Problems[number] {
  const all = inAll(count, 'anchors not reached');
  if (a.seq > chain.lastSeq) {
    return {
      seq: a.seq,
      problem: 'truncated',
      message: `the log ends at ${chain.lastSeq}, but anchor #${a.anchor} in ${label}, signed at ${a.signedAt}, covered up to ${a.seq}: records were cut off the end or the database was replaced${all}`,
    };
  }
  return {
    seq: a.seq,
    problem: 'edited',
    message: `record ${a.seq} is not the one anchor #${a.anchor} in ${label}, signed at ${a.signedAt}, covered: the chain was rewritten or the database was replaced${all}`,
  };
}

/** A head in the database and the anchor it was written to. */
export interface AnchoredHead {
  seq: number;
  anchor: number;
  anchorHash: string;
}

/**
 * The database remembers which anchor each head went to: an anchor log that
 * lost its end, or the whole file, no longer holds what the database names.
 */
export function checkDatabaseAnchors(heads: AnchoredHead[], log: ReadAnchors | null, location: string, problems: Problems): void {
  const newestNamed = heads.at(-1);
  if (!newestNamed) return;
  if (!log) {
    problems.push({
      seq: newestNamed.seq,
      problem: 'anchor_log_missing',
      message: `the anchor log (${location}) is missing, but the database's heads name anchors up to #${newestNamed.anchor} (the head at ${newestNamed.seq})`,
    });
    return;
  }
  const hashes = new Map(log.anchors.map((a) => [a.anchor, anchorHash(a)]));
  const lastInLog = log.anchors.at(-1)?.anchor ?? 0;
  const beyond = heads.filter((h) => h.anchor > lastInLog).at(-1);
  if (beyond) {
    problems.push({
      seq: beyond.seq,
      problem: 'anchor_log_truncated',
      message: `the database's head at ${beyond.seq} was anchored as #${beyond.anchor}, but the anchor log (${location}) ends at #${lastInLog}: it was cut back`,
    });
  }
  const differs = heads.filter((h) => h.anchor <= lastInLog && hashes.get(h.anchor) !== h.anchorHash).at(-1);
  if (differs) {
    problems.push({
      seq: differs.seq,
      problem: 'anchor_chain_broken',
      message: `anchor #${differs.anchor} in the anchor log (${location}) is not the one the database's head at ${differs.seq} was anchored as: the anchor log was rewritten`,
    });
  }
}

/** The newest supplied anchor (a copy shipped off the box) must be in the anchor log as it is. */
export function checkSuppliedAgainstLog(supplied: AuditAnchorCheck, log: ReadAnchors | null, location: string, problems: Problems): void {
  const newest = supplied.newest;
  if (!newest) return;
  const inLog = log?.anchors.filter((a) => a.anchor === newest.anchor).at(-1);
  const lastInLog = log?.anchors.at(-1)?.anchor ?? 0;
  if (!inLog && newest.anchor > lastInLog) {
    problems.push({
      seq: newest.seq,
      problem: 'anchor_log_truncated',
      message: `the supplied anchors reach #${newest.anchor} (signed at ${newest.signedAt}), but the anchor log (${location}) ends at #${lastInLog}: it was cut back or rolled back`,
    });
  } else if (!inLog || inLog.hash !== newest.hash || inLog.seq !== newest.seq || inLog.signedAt !== newest.signedAt) {
    problems.push({
      seq: newest.seq,
      problem: 'anchor_chain_broken',
      message: `supplied anchor #${newest.anchor} is not anchor #${newest.anchor} of the anchor log (${location}): one of them was rewritten`,
    });
  }
}
