import { allTiers, clip, type Probe, py, sh, Verdict } from './probe.js';

// Section C of docs/security-probes.md that needs no upstream of its own: what
// a sandbox may not reach, whatever network the deployment has.

const noNetwork: Probe = {
  id: 'C1',
  title: 'reach anything with network none: fails at once, with a reason',
  class: 'egress',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.create({ network: { mode: 'none' } });
    const v = new Verdict();
    const byName = await sh(sbx, 'curl -sS --max-time 20 http://example.com/');
    v.expect(byName.exitCode === 6, `a name resolved or timed out (curl exit ${byName.exitCode})`); // 28 would be a timeout
    const byAddress = await py(sbx, [
      'import socket',
      'try:',
      '  socket.create_connection(("1.1.1.1", 80), timeout=20); print("CONNECTED")',
      'except OSError as e: print(type(e).__name__, e.errno)',
    ]);
    v.expect(!byAddress.stdout.includes('CONNECTED') && !byAddress.stdout.includes('timeout'), `dialling 1.1.1.1:80 gave ${clip(byAddress.stdout)}`);
    const denied = await sbx.network.update({ allow: ['example.com'] }).catch((e: unknown) => e);
    v.expect((denied as { code?: string }).code === 'network_disabled', 'the allowlist of a sandbox with no network could be changed');
    return v.held(`no name resolves (curl exit 6), 1.1.1.1 unreachable at once (${byAddress.stdout.trim()})`);
  },
};

const defaultDeny: Probe = {
  id: 'C1.2',
  title: 'reach a host when nothing is allowed (the default)',
  class: 'egress',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    const viaProxy = await sh(sbx, 'curl -sS --max-time 20 http://example.com/');
    v.expect(viaProxy.stdout.includes("not in the sandbox's allowlist"), `HTTP through the proxy gave ${clip(viaProxy.stdout + viaProxy.stderr)}`);
    const tunnel = await sh(sbx, 'curl -sS --max-time 20 https://example.com/');
    v.expect(tunnel.exitCode === 56, `HTTPS through the proxy gave curl exit ${tunnel.exitCode}`);
    v.expect((await sh(sbx, 'getent hosts example.com')).exitCode !== 0, 'DNS answered for a host nobody allowed');
    return v.held('HTTP refused with a reason, CONNECT refused, DNS answers nothing');
  },
};

const ipLiterals: Probe = {
  id: 'C3',
  title: 'dial IP literals outside the allowlist, directly (no proxy)',
  class: 'egress',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    // Ports the container tier does not redirect to the proxy (80 and 443 go there: C8).
    const raw = await py(sbx, [
      'import socket',
      'for host, port in (("1.1.1.1", 22), ("8.8.8.8", 8080), ("1.1.1.1", 5432)):',
      '  try:',
      '    s = socket.create_connection((host, port), timeout=10); s.sendall(b"x"); print("SENT", host, port)',
      '  except OSError as e: print("refused", host, port)',
    ]);
    v.expect(!raw.stdout.includes('SENT'), `direct connections got out: ${clip(raw.stdout)}`);
    const https = await sh(sbx, `curl -sS --max-time 20 --noproxy '*' -k -o /dev/null -w '%{http_code}' https://1.1.1.1/; echo " exit=$?"`);
    v.expect(!/^[1-5]\d\d exit=0/.test(https.stdout), `HTTPS to 1.1.1.1 without the proxy answered: ${clip(https.stdout)}`);
    return v.held('1.1.1.1:22, 8.8.8.8:8080, 1.1.1.1:5432 unreachable; HTTPS to 1.1.1.1 without the proxy gets no answer');
  },
};

const privateAddresses: Probe = {
  id: 'C4',
  title: 'an allowlist naming loopback, private or cloud metadata addresses',
  class: 'egress',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.create({ network: { allow: ['169.254.169.254', '127.0.0.1', '10.0.0.1'] } });
    const v = new Verdict();
    for (const [address, reason] of [
      ['169.254.169.254', 'link-local'],
      ['127.0.0.1', 'loopback'],
      ['10.0.0.1', 'private'],
    ] as const) {
      // --noproxy '': through the proxy even for loopback, which curl would otherwise dial itself.
      const r = await sh(sbx, `curl -sS --max-time 20 --noproxy '' http://${address}/latest/meta-data/`);
      v.expect(r.stdout.includes(reason), `${address} through the proxy gave ${clip(r.stdout + r.stderr)}`);
    }
    return v.held('the proxy refuses loopback, private and metadata addresses even when allowed by name');
  },
};

const hostLoopback: Probe = {
  id: 'C5',
  title: "reach the daemon's API or anything on the host's loopback",
  class: 'egress',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    const url = new URL(ctx.conn.url ?? 'http://127.0.0.1:7423');
    const port = url.port || '80';
    const direct = await sh(sbx, `curl -sS --max-time 20 --noproxy '*' http://127.0.0.1:${port}/; echo " exit=$?"`);
    v.expect(direct.stdout.includes('exit=7'), `the API's port on the sandbox's loopback gave ${clip(direct.stdout)}`);
    // Through the proxy (--noproxy '': even for loopback): the proxy refuses, the API never answers.
    const viaProxy = await sh(sbx, `curl -sS --max-time 20 --noproxy '' http://127.0.0.1:${port}/`);
    v.expect(
      viaProxy.stdout.startsWith('paddock egress:') && !viaProxy.stdout.includes('"error"'),
      `the API's port through the proxy gave ${clip(viaProxy.stdout + viaProxy.stderr)}`,
    );
    if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost') {
      const byAddress = await sh(sbx, `curl -sS --max-time 20 --noproxy '*' ${url.origin}/; echo " exit=$?"`);
      v.expect(!byAddress.stdout.includes('"error"'), `the API answered at ${url.origin}`);
    }
    return v.held(`127.0.0.1:${port} is the sandbox's own loopback; the proxy refuses it`);
  },
};

const rawSockets: Probe = {
  id: 'C7',
  title: 'raw, packet and ICMP sockets',
  class: 'egress',
  tiers: allTiers,
  async run(ctx) {
    const sbx = await ctx.shared();
    const v = new Verdict();
    const r = await py(sbx, [
      'import socket',
      'echo = b"\\x08\\x00\\xf7\\xff\\x00\\x00\\x00\\x00"',
      'for family, kind, proto in ((socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP), (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP), (socket.AF_PACKET, socket.SOCK_RAW, 0)):',
      '  try:',
      '    s = socket.socket(family, kind, proto)',
      '    if family == socket.AF_PACKET: print("OPENED packet")',
      '    else: s.sendto(echo, ("1.1.1.1", 0)); print("SENT icmp", kind)',
      '  except OSError as e: print("refused", e.errno)',
    ]);
    // gVisor opens ICMP datagram (ping) sockets in its own stack, but nothing leaves it.
    v.expect(!/OPENED|SENT/.test(r.stdout), `got ${clip(r.stdout)}`);
    const ping = await sh(sbx, 'ping -c 1 -W 2 1.1.1.1 2>&1; echo "exit=$?"');
    v.expect(!ping.stdout.includes('exit=0'), 'ping 1.1.1.1 was answered');
    return v.held('raw ICMP and packet sockets refused; ping gets no answer');
  },
};

export const egressProbes: Probe[] = [noNetwork, defaultDeny, ipLiterals, privateAddresses, hostLoopback, rawSockets];
