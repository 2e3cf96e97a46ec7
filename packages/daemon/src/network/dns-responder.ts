import dnsPacket from 'dns-packet';
import type { AddressGuard } from './address-guard.js';
import type { EgressResolver } from './egress-resolver.js';
import type { SandboxNetwork } from './network-service.js';

const answerTtlSeconds = 30;
const nxdomain = 3;
const servfail = 2;

export interface DnsDecision {
  name: string;
  refused?: string;
}

/**
 * Answers a sandbox's DNS questions: an allowed name gets the IPv4 addresses
 * the proxy itself would connect to (a sandbox has no IPv6 route), any other
 * name does not exist. Nothing is forwarded: the sandbox never talks to a
 * DNS server, so DNS cannot carry data out.
 */
export class DnsResponder {
  constructor(
    private readonly resolver: EgressResolver,
    private readonly guard: AddressGuard,
  ) {}

  async answer(query: Buffer, network: SandboxNetwork | undefined): Promise<{ reply: Buffer; decision?: DnsDecision }> {
    let packet: dnsPacket.DecodedPacket;
    try {
      packet = dnsPacket.decode(query);
    } catch {
      return { reply: Buffer.alloc(0) };
    }
    const question = packet.questions?.[0];
    const base = { type: 'response' as const, id: packet.id, questions: packet.questions, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE };
    if (!question) return { reply: dnsPacket.encode({ ...base, flags: base.flags | servfail }) };
    const name = question.name.toLowerCase();
    const reply = (answers: dnsPacket.Answer[], rcode = 0) => dnsPacket.encode({ ...base, flags: base.flags | rcode, answers });
    if (!network || network.mode === 'none' || !network.rules.allowsName(name)) {
      return { reply: reply([], nxdomain), decision: { name, refused: `${name} is not in the sandbox's allowlist` } };
    }
    let addresses: string[];
    try {
      addresses = await this.resolver.resolve(name);
    } catch {
      return { reply: reply([], servfail) };
    }
    const usable = addresses.filter((a) => !this.guard.refusal(a));
    if (addresses.length && !usable.length) {
      return { reply: reply([], nxdomain), decision: { name, refused: this.guard.refusal(addresses[0] as string) } };
    }
    if (question.type !== 'A') return { reply: reply([]) };
    const answers = usable
      .filter((a) => a.includes('.'))
      .map((data) => ({ type: 'A' as const, name: question.name, ttl: answerTtlSeconds, class: 'IN' as const, data }));
    return { reply: reply(answers) };
  }
}
