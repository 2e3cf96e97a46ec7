/** Why a watcher's RFB stream was cut: it broke the protocol, or asked for something a watcher may not. */
export class RfbViolation extends Error {}

/** The most a watcher's (dropped) ClientCutText may announce: a clipboard of a watcher goes nowhere anyway. */
const maxCutText = 1024 * 1024;

/** Client messages a watcher may send, by type: their fixed length, or how to read it from the bytes so far. */
const allowed: Record<number, (buf: Buffer) => number | undefined> = {
  0: () => 20, // SetPixelFormat
  2: (b) => (b.length >= 4 ? 4 + 4 * b.readUInt16BE(2) : undefined), // SetEncodings
  3: () => 10, // FramebufferUpdateRequest
  150: () => 10, // EnableContinuousUpdates
  248: (b) => (b.length >= 9 ? 9 + Math.min(b.readUInt8(8), 64) : undefined), // Fence
};

/** Input: dropped whole, never passed on. */
const input: Record<number, (buf: Buffer) => number | undefined> = {
  4: () => 8, // KeyEvent
  5: () => 6, // PointerEvent
  6: (b) => {
    if (b.length < 8) return undefined;
    // A negative length is the extended clipboard's (its payload is -length bytes; noVNC answers a server's caps with one).
    const n = Math.abs(b.readInt32BE(4));
    if (n > maxCutText) throw new RfbViolation(`a ClientCutText of ${n} bytes`);
    return 8 + n;
  }, // ClientCutText
};

/**
 * The watcher's half of an RFB (VNC) connection, read message by message so
 * that nothing a watcher sends moves the sandbox's mouse or keyboard,
 * whatever the VNC server in the sandbox (the sandbox's, so not trusted to be
 * view-only) would do with it: the handshake (protocol version, security type
 * None, ClientInit) and the messages that ask for pictures pass; key, pointer
 * and clipboard messages are dropped; anything else ends the connection.
 */
export class RfbViewFilter {
  private pending: Buffer = Buffer.alloc(0);
  private stage: 'version' | 'security' | 'init' | 'messages' = 'version';
  /** Input messages dropped so far. */
  dropped = 0;
  private fromServerPending: Buffer = Buffer.alloc(0);
  private serverStage: 'version' | 'types' | 'pass' = 'version';

  /**
   * The server's bytes, with its list of security types cut down to None:
   * a client left to choose picks the server's first (x11vnc offers Tight
   * first), whose handshake this filter does not read.
   */
  fromServer(chunk: Buffer): Buffer {
    if (this.serverStage === 'pass') return chunk;
    this.fromServerPending = Buffer.concat([this.fromServerPending, chunk]);
    const b = this.fromServerPending;
    if (this.serverStage === 'version') {
      // The version goes on at once: the server sends its types only after the client's version.
      if (b.length < 12) return Buffer.alloc(0);
      this.serverStage = 'types';
      this.fromServerPending = b.subarray(12);
      return Buffer.concat([b.subarray(0, 12), this.fromServer(Buffer.alloc(0))]);
    }
    if (b.length < 1) return Buffer.alloc(0);
    const count = b[0] as number;
    if (count === 0) {
      // No types: a reason follows, which the client shows; nothing else can happen on this connection.
      this.serverStage = 'pass';
      return b;
    }
    if (b.length < 1 + count) return Buffer.alloc(0);
    if (!b.subarray(1, 1 + count).includes(1)) throw new RfbViolation('the server offers no security type None');
    this.serverStage = 'pass';
    this.fromServerPending = Buffer.alloc(0);
    return Buffer.concat([Buffer.from([1, 1]), b.subarray(1 + count)]);
  }

  /** The bytes of `chunk` (with what was held back) that may go on to the server; throws RfbViolation to end the connection. */
  push(chunk: Buffer): Buffer {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const n = this.next();
      if (n === undefined || this.pending.length < n.length) break;
      if (n.pass) out.push(this.pending.subarray(0, n.length));
      else this.dropped++;
      this.pending = this.pending.subarray(n.length);
    }
    if (this.pending.length > maxCutText + 8) throw new RfbViolation('a message too long');
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }

  /** The length of the next whole unit in `pending` and whether it passes; undefined when not enough is known yet. */
  private next(): { length: number; pass: boolean } | undefined {
    const b = this.pending;
    if (b.length === 0) return undefined;
    switch (this.stage) {
      case 'version': {
        if (b.length < 12) return undefined;
        const version = b.subarray(0, 12).toString('latin1');
        // 3.3 lets the server pick a security type the client then answers unseen; only 3.7 and 3.8 are read here.
        if (!/^RFB 003\.00[78]\n$/.test(version)) throw new RfbViolation(`protocol version ${JSON.stringify(version)}`);
        this.stage = 'security';
        return { length: 12, pass: true };
      }
      case 'security':
        if (b[0] !== 1) throw new RfbViolation(`security type ${b[0]} (only None is spoken here)`);
        this.stage = 'init';
        return { length: 1, pass: true };
      case 'init':
        this.stage = 'messages';
        return { length: 1, pass: true };
      case 'messages': {
        const type = b[0] as number;
        const rule = allowed[type] ?? input[type];
        if (!rule) throw new RfbViolation(`client message type ${type}`);
        const length = rule(b);
        if (length === undefined) return undefined;
        // Re-read by the loop once enough has come; until then, nothing of it moves.
        return { length, pass: allowed[type] !== undefined };
      }
    }
  }
}
