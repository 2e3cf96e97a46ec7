import type { Socket } from 'node:net';
import type { DnsResponder } from '../dns-responder.js';
import type { NetworkService } from '../network-service.js';
import type { Origin } from './arrival-header.js';
import { egressLimits } from './egress-limits.js';
import type { EgressRecords } from './egress-records.js';

export interface DnsAnswererDeps {
  network: Pick<NetworkService, 'get'>;
  dns: Pick<DnsResponder, 'answer'>;
  records: EgressRecords;
}

/** Questions waiting in one connection's buffer beyond this size close it. */
const maxBufferedBytes = 70_000;
/** Answers not yet read by the sandbox beyond this size pause its questions. */
const maxUnreadBytes = 64 * 1024;

/**
 * Answers a sandbox's DNS questions, length-framed as over TCP (the relay
 * frames UDP ones the same way), in order.
 */
export class DnsAnswerer {
  constructor(private readonly deps: DnsAnswererDeps) {}

  /**
   * At most a few questions wait at a time: beyond that the socket is paused
   * until answers are written out, so a sandbox that asks without reading
   * holds no more than that.
   */
  serve(origin: Origin, socket: Socket): void {
    let buffered = Buffer.alloc(0);
    let pending = 0;
    let chain = Promise.resolve();
    let ended = false;
    const settleFlow = () => {
      if (pending >= egressLimits.pendingDns || socket.writableLength > maxUnreadBytes) socket.pause();
      else if (!ended) socket.resume();
    };
    socket.on('drain', settleFlow);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const query = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + query.length);
        pending += 1;
        chain = chain
          .then(() => this.answerOne(origin, socket, query))
          .catch(() => {
            socket.destroy();
          })
          .finally(() => {
            pending -= 1;
            settleFlow();
          });
      }
      if (buffered.length > maxBufferedBytes) socket.destroy();
      settleFlow();
    });
    socket.on('end', () => {
      ended = true;
      void chain.then(() => socket.end());
    });
    socket.resume();
  }

  private async answerOne(origin: Origin, socket: Socket, query: Buffer): Promise<void> {
    const network = this.deps.network.get(origin.sandbox);
    const { reply, decision } = await this.deps.dns.answer(query, network);
    if (decision?.refused) this.deps.records.refuse(origin.sandbox, network, 'dns', decision.name, null, decision.refused);
    if (socket.destroyed || !socket.writable) return;
    // A question too malformed to answer (not even its id can be read back): the connection ends
    // after the answers before it, rather than leave the sandbox waiting for one that never comes.
    if (!reply.length) return void socket.end();
    const length = Buffer.alloc(2);
    length.writeUInt16BE(reply.length);
    socket.write(Buffer.concat([length, reply]));
  }
}
