import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountsUnder, NetnsNetwork, netnsHelperPath, spareNamespacesFolder } from '@paddock/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { hostFootprint } from '../testing/host-probe.js';

// Needs root and the built paddock-netns: the namespace a container-tier sandbox joins, made and removed for real.
const stateDir = mkdtempSync(join(tmpdir(), 'paddock-netns-'));
const sandboxesDir = join(stateDir, 'sandboxes');
afterAll(() => {
  // A test that failed half-way leaves its namespaces mounted: none outlives the file.
  for (const mount of mountsUnder(stateDir).reverse()) execFileSync('umount', ['--lazy', mount]);
  rmSync(stateDir, { recursive: true, force: true });
});

const inNamespace = (path: string, ...command: string[]) => execFileSync('nsenter', [`--net=${path}`, ...command], { encoding: 'utf8' });

describe('a sandbox’s network namespace', () => {
  it('has loopback, a veth with no way out, the egress rules and its own sysfs; detach leaves nothing', async () => {
    const network = new NetnsNetwork(sandboxesDir);
    const attachment = await network.attach({ id: 'n1', tier: 'container', mode: 'proxy', layers: [] });
    const netns = attachment.netnsPath ?? '';
    const links = JSON.parse(inNamespace(netns, 'ip', '-j', 'addr')) as { ifname: string; flags: string[]; addr_info: { local: string }[] }[];
    const byName = Object.fromEntries(links.map((link) => [link.ifname, link]));
    expect(byName.lo?.flags).toContain('UP');
    expect(byName.pd0?.flags).toContain('UP');
    expect(byName.pd0?.addr_info.map((a) => a.local)).toEqual(['100.127.255.1']);
    expect(byName.pd1?.flags).not.toContain('UP');
    expect(inNamespace(netns, 'ip', 'route')).toContain('default via 100.127.255.0 dev pd0 onlink');
    expect(inNamespace(netns, 'nft', 'list', 'ruleset')).toContain('redirect to :15002');
    expect(inNamespace(netns, 'cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start').trim()).toBe('0');
    // The sysfs is the namespace's own (it lists pd0, which the host has not) and read-only.
    const sysfs = attachment.sysfsPath ?? '';
    expect(execFileSync('ls', [join(sysfs, 'class/net')], { encoding: 'utf8' }).split('\n')).toContain('pd0');
    expect(execFileSync('findmnt', ['-no', 'FSTYPE,OPTIONS', sysfs], { encoding: 'utf8' })).toMatch(/^sysfs\s+ro,nosuid,nodev,noexec/);

    await network.detach('n1');
    expect(hostFootprint(stateDir, 'n1').mounts).toEqual([]);
  });

  it('spares made ahead: each create takes a namespace of its own with the same rules, the spares are made again, and stop leaves nothing', async () => {
    const spares = join(sandboxesDir, spareNamespacesFolder);
    const network = new NetnsNetwork(sandboxesDir, undefined, { spares: 2, refillDelayMs: 0 });
    await network.start();
    await expect.poll(() => readdirSync(spares).length, { timeout: 10_000 }).toBe(2);
    const ids = ['s1', 's2', 's3'];
    const namespaces: number[] = [];
    for (const id of ids) {
      const netns = (await network.attach({ id, tier: 'container', mode: 'proxy', layers: [] })).netnsPath ?? '';
      expect(netns).toBe(join(sandboxesDir, id, 'netns'));
      expect(inNamespace(netns, 'nft', 'list', 'ruleset')).toContain('redirect to :15002');
      expect(inNamespace(netns, 'ip', 'route')).toContain('default via 100.127.255.0 dev pd0 onlink');
      expect(execFileSync('ls', [join(sandboxesDir, id, 'sys', 'class/net')], { encoding: 'utf8' }).split('\n')).toContain('pd0');
      namespaces.push(Number(inNamespace(netns, 'stat', '-L', '-c', '%i', '/proc/self/ns/net').trim()));
    }
    // No namespace is handed to two sandboxes, and none is the host's.
    expect(new Set(namespaces).size).toBe(3);
    expect(namespaces).not.toContain(statSync('/proc/self/ns/net').ino);
    // Taken ones are made again in the background (a spare's folder is there before its mounts are).
    await expect.poll(() => mountsUnder(spares).length, { timeout: 10_000 }).toBe(4);
    expect(readdirSync(spares)).toHaveLength(2);

    await network.stop();
    expect(mountsUnder(spares)).toEqual([]);
    expect(readdirSync(spares)).toEqual([]);
    for (const id of ids) await network.detach(id);
    expect(mountsUnder(sandboxesDir)).toEqual([]);
  });

  it('a start removes the spares an earlier one left (its daemon was killed) and makes its own', async () => {
    const spares = join(sandboxesDir, spareNamespacesFolder);
    const killed = new NetnsNetwork(sandboxesDir, undefined, { spares: 1 });
    await killed.start();
    await expect.poll(() => mountsUnder(spares).length, { timeout: 10_000 }).toBe(2);
    const left = readdirSync(spares);
    const next = new NetnsNetwork(sandboxesDir, undefined, { spares: 1 });
    await next.start();
    await expect.poll(() => readdirSync(spares).length, { timeout: 10_000 }).toBe(1);
    expect(readdirSync(spares).filter((name) => left.includes(name))).toEqual([]);
    await expect.poll(() => mountsUnder(spares).length, { timeout: 10_000 }).toBe(2);
    await next.stop();
    await killed.stop();
    expect(mountsUnder(spares)).toEqual([]);
  });

  it('a create whose folder is there already makes its own namespace, and the spare it could not take is removed', async () => {
    const spares = join(sandboxesDir, spareNamespacesFolder);
    const network = new NetnsNetwork(sandboxesDir, undefined, { spares: 1, refillDelayMs: 60_000 });
    await network.start();
    await expect.poll(() => mountsUnder(spares).length, { timeout: 10_000 }).toBe(2);
    mkdirSync(join(sandboxesDir, 'there', 'rootfs'), { recursive: true });
    const netns = (await network.attach({ id: 'there', tier: 'container', mode: 'proxy', layers: [] })).netnsPath ?? '';
    expect(inNamespace(netns, 'nft', 'list', 'ruleset')).toContain('redirect to :15002');
    await expect.poll(() => mountsUnder(spares), { timeout: 10_000 }).toEqual([]);
    await network.stop();
    await network.detach('there');
    expect(mountsUnder(sandboxesDir)).toEqual([]);
  });

  it('a ruleset the kernel refuses fails with one line and leaves no namespace mounted', () => {
    const dir = join(stateDir, 'refused');
    mkdirSync(join(dir, 'sys'), { recursive: true });
    writeFileSync(join(dir, 'netns'), '');
    let stderr = '';
    try {
      execFileSync(netnsHelperPath(), [join(dir, 'netns'), 'table inet paddock { chain c { type nat hook nowhere priority 0; } }', join(dir, 'sys')], {
        stdio: 'pipe',
      });
    } catch (err) {
      stderr = String((err as { stderr: Buffer }).stderr);
    }
    expect(stderr).toMatch(/paddock-netns: nftables ruleset/);
    expect(mountsUnder(dir)).toEqual([]);
  });
});
