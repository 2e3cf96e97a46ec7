import { BadRequestError, PayloadTooLargeError, RuntimeError } from '@paddock/core';
import { type AgentFeature, agentFeatures, Frame, RequestField } from './agent-protocol-table.js';

export { type AgentFeature, agentFeatures, agentProtocolVersion, Frame, Op, RequestField } from './agent-protocol-table.js';

export const maxFramePayload = 1 << 20;

export function encodeFrame(type: string, payload: Buffer | string = Buffer.alloc(0)): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/**
 * A request is a list of "k:value" fields, each NUL-terminated. A NUL inside a
 * value would start a field of the caller's choosing (another operation, path
 * or user than the one authorized and audited), so it is refused here, where
 * every request passes.
 */
export function encodeRequest(fields: Array<[string, string]>): Buffer {
  for (const [key, value] of fields) {
    if (value.includes('\0')) throw new BadRequestError(`${fieldNames[key] ?? key} must not contain NUL bytes`, { field: fieldNames[key] ?? key });
  }
  const payload = Buffer.from(fields.map(([k, v]) => `${k}:${v}\0`).join(''));
  if (payload.length > maxFramePayload) throw new PayloadTooLargeError(maxFramePayload);
  return encodeFrame(Frame.request, payload);
}

const fieldNames: Record<string, string> = {
  [RequestField.arg]: 'cmd',
  [RequestField.env]: 'env',
  [RequestField.cwd]: 'cwd',
  [RequestField.user]: 'user',
  [RequestField.path]: 'path',
  [RequestField.path2]: 'to',
  [RequestField.pty]: 'pty',
  [RequestField.meta]: 'meta',
};

/** Incremental parser: feed socket chunks, get whole frames back. */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Array<{ type: string; payload: Buffer }> {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Array<{ type: string; payload: Buffer }> = [];
    while (this.pending.length >= 5) {
      const len = this.pending.readUInt32BE(1);
      // The agent never sends more; anything larger is a sandbox trying to make us buffer without end.
      if (len > maxFramePayload) throw new Error(`agent frame of ${len} bytes exceeds the ${maxFramePayload}-byte limit`);
      if (this.pending.length < 5 + len) break;
      frames.push({ type: String.fromCharCode(this.pending[0] as number), payload: this.pending.subarray(5, 5 + len) });
      this.pending = this.pending.subarray(5 + len);
    }
    return frames;
  }
}

export interface AgentEntry {
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  mode: number;
  mtimeMs: number;
  uid: number;
  gid: number;
  path: string;
  symlinkTarget: string | null;
}

const entryTypes = new Set<AgentEntry['type']>(['file', 'dir', 'symlink', 'other']);

/**
 * An entry as the agent describes it. The agent's socket is in a folder the
 * sandbox's root can write, so whoever answers may not be the agent: an
 * entry out of its shape (a type it never sends, a mode beyond permission and
 * setuid bits, a number that is none) is refused, not passed on.
 */
export function decodeEntry(payload: Buffer): AgentEntry {
  const [type, size, mode, mtime, uid, gid, path, target] = payload.toString().split('\0');
  const entry: AgentEntry = {
    type: type as AgentEntry['type'],
    size: Number(size),
    mode: /^[0-7]{1,4}$/.test(mode ?? '') ? Number.parseInt(mode as string, 8) : Number.NaN,
    mtimeMs: Number(mtime),
    uid: Number(uid),
    gid: Number(gid),
    path: path ?? '',
    symlinkTarget: target ? target : null,
  };
  const counts = [entry.size, entry.uid, entry.gid].every((n) => Number.isSafeInteger(n) && n >= 0);
  if (!entryTypes.has(entry.type) || !counts || Number.isNaN(entry.mode) || Number.isNaN(new Date(entry.mtimeMs).getTime()) || !path) {
    throw new RuntimeError('the sandbox agent sent a malformed entry', { type: String(type).slice(0, 16) }, 'agent_protocol_error');
  }
  return entry;
}

/** What an agent says it speaks; version 0 is an agent from before `hello`. */
export interface AgentHello {
  version: number;
  /** Features this daemon knows of; others the agent names are left out. */
  features: AgentFeature[];
}

/** The answer of an agent that does not know `hello`. */
export const helloOfVersion0: AgentHello = { version: 0, features: [] };

/** Longest `hello` answer taken: a version and a few dozen feature names. */
export const maxHelloBytes = 4096;

const knownFeatures = new Set<string>(agentFeatures);

/**
 * The agent's `hello` entry: "<version> <feature> <feature>…". Whoever answers
 * on the socket may be the sandbox's own program, so anything out of that
 * shape is refused.
 */
export function decodeHello(payload: Buffer): AgentHello {
  const text = payload.toString('latin1');
  if (payload.length > maxHelloBytes || !/^[1-9]\d{0,5}( [a-z][a-z0-9-]{0,31})*$/.test(text)) {
    throw new RuntimeError('the sandbox agent sent a malformed hello', {}, 'agent_protocol_error');
  }
  const [version, ...features] = text.split(' ');
  return { version: Number(version), features: [...new Set(features)].filter((f): f is AgentFeature => knownFeatures.has(f)) };
}
