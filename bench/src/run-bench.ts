#!/usr/bin/env node
/**
 * `make bench`: Paddock against raw runc, bwrap and spawn, all measured in one
 * run on this machine. Prints a table, writes bench/results/latest.json and
 * regenerates BENCHMARKS.md. Everything it creates is removed, even on failure.
 */
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { paddockVersion } from '@paddock/core';
import { startRegistry, type TestRegistry } from '@paddock/daemon/testing/oci-fixture';
import {
  agentBinDir,
  CgroupProbe,
  LoopbackOnlyNetwork,
  mountsUnder,
  OciRuntime,
  readBaseLayerInfo,
  runcRunFlags,
  SandboxEngine,
  sweepStateDir,
} from '@paddock/engine';
import { repoRoot, startBenchDaemon } from './bench-daemon.js';
import { type BenchUpstream, startBenchUpstream } from './bench-upstream.js';
import {
  type BenchContext,
  benchCli,
  benchColdCreate,
  benchExec,
  benchIdleMemory,
  benchSteadyExec,
  benchTeardown,
  type CliOutcome,
  type IdleMemory,
  steadyWarmUpCalls,
  TimedRuntime,
} from './benchmarks.js';
import { benchCheck, type CheckOutcome } from './check-bench.js';
import { Cleanup } from './cleanup.js';
import { benchCode, type CodeOutcome } from './code-bench.js';
import { loadBenchConfig } from './config.js';
import { benchDashboardRss, loadDashboardOnce } from './dashboard-bench.js';
import { benchDesktop, type DesktopOutcome } from './desktop-bench.js';
import { benchE2b } from './e2b-bench.js';
import { benchGovernance } from './governance-bench.js';
import { benchGvisorCreate, benchGvisorExec } from './gvisor-bench.js';
import { measureHostSpeed } from './host-speed.js';
import { readHostState, waitForQuietHost } from './host-state.js';
import { benchImages, imageDataLayers } from './image-bench.js';
import {
  type BurstOutcome,
  benchBurst,
  benchDensity,
  benchLifecycle,
  benchRawBurst,
  benchSteadyClaim,
  benchThroughput,
  benchWarmClaim,
  type DensityOutcome,
  probeCriu,
  type ThroughputOutcome,
  warmClaimWarmUps,
} from './lifecycle-bench.js';
import { describeMachine } from './machine.js';
import { benchMcp, benchSteadyGateway, type McpOutcome } from './mcp-bench.js';
import { procStatusBytes, toMiB } from './memory.js';
import { benchNetwork, type NetworkOutcome } from './network-bench.js';
import { benchPeers, type PeersOutcome, peerCgroupParents } from './peers-bench.js';
import { benchPorts, type PortsOutcome } from './ports-bench.js';
import { benchPython } from './python-bench.js';
import { RawRunc } from './raw-runc.js';
import { computeTargets, type Results, renderMarkdown, renderTerminal } from './report.js';
import { fmt, fmtRatio, ratio, Samples } from './stats.js';
import { sleep } from './timed-spawn.js';
import { benchVolumes } from './volume-bench.js';

const reaperFlag = 'PADDOCK_BENCH_UNDER_REAPER';
/** Section keys, in the order they run; BENCH_ONLY takes a comma-separated list of them. */
const sectionKeys = [
  'create',
  'teardown',
  'exec',
  'gvisor-create',
  'gvisor-exec',
  'pool',
  'lifecycle',
  'governance',
  'cli',
  'python',
  'e2b',
  'code',
  'desktop',
  'check',
  'peers',
  'dashboard-rss',
  'mcp',
  'daemon-rss',
  'idle-memory',
  'network',
  'ports',
  'images',
  'volumes',
  'throughput',
  'density',
  'warm-daemon',
];

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/**
 * Sandboxes started with `runc run --detach` outlive runc and are re-parented to
 * the nearest subreaper; without one (PID 1 here does not reap) their inits
 * pile up as zombies. Like `make up` and the tests, run under `tini -s`.
 */
function reexecUnderReaper(): boolean {
  if (process.env[reaperFlag] === '1') return false;
  const tini = onPath('tini');
  if (!tini) {
    console.error('warning: tini is not installed; dead sandbox inits may stay as zombies until reboot');
    return false;
  }
  const child = spawn(tini, ['-s', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [reaperFlag]: '1' },
  });
  // A terminal's Ctrl-C reaches the bench itself; a signal sent to this wrapper alone is passed on.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig === 'SIGINT' ? 'SIGINT' : 'SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
  return true;
}

/**
 * The code section builds the code-interpreter template from Debian's mirror:
 * a host may reach it through an address the egress proxy refuses by default
 * (a local mirror on a reserved range), as the tests allow it too.
 */
async function debianMirrorArgs(): Promise<string[]> {
  const { address } = await lookup('deb.debian.org', { family: 4 }).catch(() => ({ address: '' }));
  return address ? ['--egress-allow-range', `${address}/32`] : [];
}

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(1);
}

async function main(): Promise<void> {
  if (reexecUnderReaper()) return;
  const startedAt = performance.now();
  const config = loadBenchConfig();

  // Preflight: everything that would make the run meaningless, checked before anything is created.
  const selected = (key: string) => config.only === null || config.only.includes(key);
  const unknownSections = (config.only ?? []).filter((key) => !sectionKeys.includes(key));
  if (unknownSections.length) fail(`BENCH_ONLY: no section ${unknownSections.join(', ')} (sections: ${sectionKeys.join(', ')})`);
  if (process.getuid?.() !== 0) fail('run as root (runc, mounts and cgroups need it)');
  if (!onPath('runc')) fail('runc is not installed (make deps)');
  const layersDir = join(config.cacheDir, 'layers');
  const base = readBaseLayerInfo(layersDir);
  if (!base) {
    fail(
      `the base template is not built (nothing complete under ${layersDir}).\n` +
        '       Build it first with `make up`, or `node packages/daemon/dist/main.js prepare`.',
    );
  }
  let binDir: string;
  try {
    binDir = agentBinDir();
  } catch (err) {
    fail(`${(err as Error).message}`);
  }
  const bwrap = onPath('bwrap') !== null;
  if (selected('images')) {
    const missing = ['docker-registry', 'skopeo', 'umoci'].filter((tool) => !onPath(tool));
    if (missing.length) fail(`the images section needs ${missing.join(', ')} (make test-deps installs them)`);
  }

  const cleanup = new Cleanup();
  const abort = new AbortController();
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nbench: ${sig}, stopping and cleaning up…`);
    abort.abort(new Error(`interrupted by ${sig}`));
    // If the current step hangs, clean up anyway.
    setTimeout(() => void cleanup.run().then(() => process.exit(130)), 15_000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  const machine = await describeMachine();
  const root = await mkdtemp('/tmp/paddock-bench-');
  // The sandboxes' user-namespace root (an unprivileged host uid) must traverse down to their rootfs.
  await chmod(root, 0o711);
  cleanup.add(`remove ${root}`, () => sweepStateDir(root, []));

  const samples = new Samples();
  const notes = new Set<string>();
  const failures: string[] = [];
  let cli: CliOutcome = { measured: false, reason: 'the benchmark did not get that far' };
  let code: CodeOutcome = { measured: false, reason: 'the benchmark did not get that far' };
  let desktop: DesktopOutcome = { measured: false, reason: 'not run' };
  let idleMemory: IdleMemory | null = null;
  let dashboardRss: Results['dashboardRss'] = null;
  let governance: { appendsPerSecond: number } | null = null;
  let throughput: ThroughputOutcome | null = null;
  let burst: BurstOutcome | null = null;
  let density: DensityOutcome | null = null;
  let network: NetworkOutcome | null = null;
  let ports: PortsOutcome | null = null;
  let mcp: McpOutcome | null = null;
  let peers: PeersOutcome | null = null;
  let check: CheckOutcome = { measured: false, reason: 'not run' };
  const daemonRss: Results['daemonRss'] = {
    startMiB: Number.NaN,
    startSettledMiB: Number.NaN,
    endMiB: Number.NaN,
    endAnonMiB: Number.NaN,
    endFileMiB: Number.NaN,
    afterGcMiB: Number.NaN,
    heapUsedAfterGcMiB: Number.NaN,
    dashboardLoaded: false,
  };
  let cgroupParents: string[] = [];
  const log = (line: string) => console.log(line);

  log(`Paddock benchmarks — ${new Date().toISOString()}`);
  log(
    `machine: ${machine.nproc} CPUs, ${(machine.memoryMiB / 1024).toFixed(1)} GiB, kernel ${machine.kernel}, ${machine.runc}, load ${machine.loadAvgAtStart.join(' ')}`,
  );
  if ((machine.loadAvgAtStart[0] ?? 0) > machine.nproc * 0.5) {
    const warning = `the machine was busy when the run started (1-minute load ${machine.loadAvgAtStart[0]} on ${machine.nproc} CPUs); figures may be inflated`;
    notes.add(warning);
    log(`warning: ${warning}`);
  }
  log('waiting for the host to be quiet …');
  const settling = await waitForQuietHost(log, abort.signal);
  if (abort.signal.aborted) process.exit(130);
  const hostAtStart = readHostState();
  const speedAtStart = measureHostSpeed();
  if (!settling.settled) {
    const warning = `the host was not quiet after ${settling.waitedSeconds} s (${hostAtStart.blockedTasks} tasks blocked in the kernel, ${fmt(hostAtStart.memoryCgroups, 0)} memory cgroups); figures may be inflated`;
    notes.add(warning);
    log(`warning: ${warning}`);
  }
  log(`base layer: ${base.dir}`);
  log(
    `iterations: create ${config.createIterations}, exec ${config.execIterations}, cli ${config.cliIterations}, teardown ${config.teardownIterations}, idle sandboxes ${config.idleSandboxes}, warm-up ${config.warmup}`,
  );
  if (!bwrap) notes.add('bwrap is not installed; its row is missing.');
  if (config.only) log(`only: ${config.only.join(', ')} (BENCH_ONLY: a partial run; BENCHMARKS.md and latest.json are left alone)`);

  try {
    // The NETWORK section's upstream must exist before the daemon starts: the daemon's proxy is told where its DNS and CA are.
    let upstream: BenchUpstream | null = null;
    if (selected('network')) {
      log('\nstarting the upstream servers for the network benchmarks …');
      upstream = await startBenchUpstream(cleanup);
      log(`  ${upstream.plain.name} ${upstream.plain.address}, ${upstream.secret.name} ${upstream.secret.address}, DNS ${upstream.dnsServer}`);
    }
    // The IMAGES section's registry too: the daemon is told it may speak plain HTTP to it.
    let registry: TestRegistry | null = null;
    if (selected('images')) {
      const started = await startRegistry();
      registry = started;
      cleanup.add('stop the registry', () => started.stop());
      log(`\nregistry for the images benchmarks: ${started.host}`);
    }
    log('\nstarting paddockd on a temporary state folder …');
    const daemon = await startBenchDaemon(join(root, 'daemon'), config.cacheDir, cleanup, {
      args: [
        ...(upstream?.daemonArgs ?? []),
        ...(registry ? ['--insecure-registry', registry.host] : []),
        ...(selected('code') || selected('desktop') ? await debianMirrorArgs() : []),
      ],
      env: upstream?.daemonEnv,
    });
    log(`  ${daemon.endpoint.url} (pid ${daemon.endpoint.pid}, state ${daemon.stateDir})`);
    await sleep(1000);
    daemonRss.startMiB = toMiB(procStatusBytes(daemon.endpoint.pid));
    // V8's memory reducer shrinks the heap some 10–30 s after the start's work, not at a
    // time one can wait for: the target reads the daemon at rest, after the full GC the
    // reducer would do, forced now (waking the inspector costs ~0.1 MiB, read in both readings).
    try {
      await daemon.forceGc();
      await sleep(500);
      daemonRss.startSettledMiB = toMiB(procStatusBytes(daemon.endpoint.pid));
    } catch (err) {
      notes.add(`forcing a GC in the daemon at start failed: ${(err as Error).message}`);
    }
    log(`  idle RSS after start: ${fmt(daemonRss.startMiB, 1)} MiB; after a forced full GC ${fmt(daemonRss.startSettledMiB, 1)} MiB`);

    const raw = new RawRunc({ dir: join(root, 'raw'), baseLayer: base.dir, agentBinDir: binDir, cleanup });
    await raw.init();
    cgroupParents = [daemon.cgroupParent, raw.cgroupParent, ...Object.values(peerCgroupParents(raw.cgroupParent))];
    const runtime = new TimedRuntime(new OciRuntime({ binary: 'runc', root: raw.runcRoot, runArgs: runcRunFlags, pidIsContainerInit: true }));
    const engine = new SandboxEngine({
      sandboxesDir: raw.sandboxesDir,
      agentBinDir: binDir,
      runtimes: { container: runtime },
      network: new LoopbackOnlyNetwork(),
      cgroups: new CgroupProbe(),
      cgroupParent: raw.cgroupParent,
    });
    await mkdir(raw.sandboxesDir, { recursive: true });
    const ctx: BenchContext = { config, daemon, raw, engine, runtime, baseLayer: base.dir, samples, bwrap, progress: log, signal: abort.signal, notes };

    const allSections: Array<{ key: string; title: string; run: () => Promise<void>; summary: () => string }> = [
      {
        key: 'create',
        title: `cold create → first output → kill, ${bwrap ? 6 : 5} ways × ${config.createIterations} rounds`,
        run: () => benchColdCreate(ctx),
        summary: () =>
          `  first output p50: Paddock ${fmt(samples.summary('paddock.firstOutput').p50)} ms, engine ${fmt(samples.summary('engine.firstOutput').p50)} ms, ` +
          `runc run ${fmt(samples.summary('runcOverlay.firstOutput').p50)} ms (prepared ${fmt(samples.summary('runcPrepared.firstOutput').p50)} ms), ` +
          `bwrap ${fmt(samples.summary('bwrap.firstOutput').p50)} ms, spawn ${fmt(samples.summary('spawn.firstOutput').p50)} ms`,
      },
      {
        key: 'teardown',
        title: `teardown of a running sandbox, 3 ways × ${config.teardownIterations} rounds`,
        run: () => benchTeardown(ctx),
        summary: () =>
          `  p50: runc delete --force ${fmt(samples.summary('teardown.deleteForce').p50)} ms, ` +
          `engine delete ${fmt(samples.summary('teardown.engine').p50)} ms, ` +
          `runc kill + wait + delete ${fmt(samples.summary('teardown.killWaitDelete').p50)} ms`,
      },
      {
        key: 'exec',
        title: `exec \`true\` in a running sandbox, 6 ways × ${config.execIterations} calls in runs of 20`,
        run: () => benchExec(ctx),
        summary: () =>
          `  p50: API ${fmt(samples.summary('exec.http').p50)} ms, SDK ${fmt(samples.summary('exec.sdk').p50)} ms, agent ${fmt(samples.summary('exec.agent').p50)} ms, ` +
          `runc exec ${fmt(samples.summary('exec.runcExec').p50)} ms, spawn ${fmt(samples.summary('exec.spawn').p50)} ms`,
      },
      {
        key: 'gvisor-create',
        title: `gVisor tier: cold create → first output → kill, 3 ways × ${config.createIterations} rounds`,
        run: () => benchGvisorCreate(ctx),
        summary: () =>
          `  first output p50: Paddock ${fmt(samples.summary('gvisor.paddock.firstOutput').p50)} ms, ` +
          `runsc run ${fmt(samples.summary('gvisor.runscOverlay.firstOutput').p50)} ms (prepared ${fmt(samples.summary('gvisor.runscPrepared.firstOutput').p50)} ms)`,
      },
      {
        key: 'gvisor-exec',
        title: 'gVisor tier: exec `true` in a running sandbox, 3 ways',
        run: () => benchGvisorExec(ctx),
        summary: () =>
          `  p50: API ${fmt(samples.summary('gvisorExec.http').p50)} ms, agent ${fmt(samples.summary('gvisorExec.agent').p50)} ms, ` +
          `runsc exec ${fmt(samples.summary('gvisorExec.runscExec').p50)} ms`,
      },
      {
        key: 'pool',
        title: `warm pool: claim → first output, ${config.createIterations} rounds`,
        run: () => benchWarmClaim(ctx),
        summary: () =>
          `  p50 ${fmt(samples.summary('pool.firstOutput').p50)} ms, p99 ${fmt(samples.summary('pool.firstOutput').p99)} ms ` +
          `(cold: ${fmt(samples.summary('paddock.firstOutput').p50)} ms)`,
      },
      {
        key: 'lifecycle',
        title: 'lifecycle: pause/resume, and snapshot/fork of a sandbox holding 100 MB',
        run: async () => {
          await benchLifecycle(ctx);
          await probeCriu(ctx);
        },
        summary: () =>
          `  p50: pause ${fmt(samples.summary('lifecycle.pause').p50)} ms / resume ${fmt(samples.summary('lifecycle.resume').p50)} ms ` +
          `(runc ${fmt(samples.summary('lifecycle.runcPause').p50)} / ${fmt(samples.summary('lifecycle.runcResume').p50)} ms), ` +
          `snapshot ${fmt(samples.summary('lifecycle.snapshot').p50)} ms, fork ${fmt(samples.summary('lifecycle.fork').p50)} ms, ` +
          `checkpoint ${fmt(samples.summary('lifecycle.checkpoint').p50)} ms, rollback ${fmt(samples.summary('lifecycle.rollback').p50)} ms ` +
          `(cp -a of the layer ${fmt(samples.summary('lifecycle.cpCopy').p50)} ms)`,
      },
      {
        key: 'governance',
        title: 'governance in-process: authorize(), audit appends, exec with and without govern()',
        run: async () => {
          governance = await benchGovernance(ctx);
        },
        summary: () =>
          `  authorize p50 ${fmt(samples.summary('governance.authorize').p50, 3)} ms, ` +
          `exec p50 ${fmt(samples.summary('governance.exec.with').p50)} ms with vs ${fmt(samples.summary('governance.exec.without').p50)} ms without, ` +
          `${fmt(governance?.appendsPerSecond ?? Number.NaN, 0)} audit appends/s`,
      },
      {
        key: 'cli',
        title: `paddock run -- true, ${config.cliIterations} runs`,
        run: async () => {
          cli = await benchCli(ctx);
        },
        summary: () =>
          cli.measured
            ? `  p50: paddock run ${fmt(samples.summary('cli.paddockRun').p50)} ms, paddock --version ${fmt(samples.summary('cli.paddockVersion').p50)} ms, paddock --help ${fmt(samples.summary('cli.paddockHelp').p50)} ms, ` +
              `node start-up ${fmt(samples.summary('cli.nodeStartup').p50)} ms`
            : `  not measured: ${cli.reason}`,
      },
      {
        key: 'python',
        title: `Python SDK: commands.run(["true"]) beside the TypeScript SDK, ${config.execIterations} rounds; import paddock, ${config.cliIterations} runs`,
        run: () => benchPython(ctx),
        summary: () =>
          `  p50: TypeScript ${fmt(samples.summary('python.run.typescript').p50)} ms, Python sync ${fmt(samples.summary('python.run.sync').p50)} ms, ` +
          `async ${fmt(samples.summary('python.run.async').p50)} ms; import paddock ${fmt(samples.summary('python.import').p50)} ms`,
      },
      {
        key: 'e2b',
        title: `the official E2B JS SDK beside Paddock's: create → first output, ${config.createIterations} rounds; commands.run('true'), ${config.execIterations} rounds`,
        run: () => benchE2b(ctx),
        summary: () =>
          `  p50: create → output E2B ${fmt(samples.summary('e2b.first.e2b').p50)} ms, Paddock ${fmt(samples.summary('e2b.first.paddock').p50)} ms ` +
          `(the create alone: E2B ${fmt(samples.summary('e2b.create.e2b').p50)} ms, Paddock ${fmt(samples.summary('e2b.create.paddock').p50)} ms); ` +
          `run('true') E2B ${fmt(samples.summary('e2b.run.e2b').p50)} ms, Paddock ${fmt(samples.summary('e2b.run.paddock').p50)} ms ` +
          `(bash -l -c true as user, as E2B's SDK runs it, through Paddock's: ${fmt(samples.summary('e2b.run.paddockLoginBash').p50)} ms; ` +
          `the same envd call from a bare HTTP client: ${fmt(samples.summary('e2b.run.e2bBare').p50)} ms)`,
      },
      {
        key: 'code',
        title: `code interpreter: runCode('1+1') warm, ${config.execIterations} cells; a 640×480 chart, 20 cells; the first cell, cold and from a warm pool`,
        run: async () => {
          code = await benchCode(ctx);
        },
        summary: () =>
          code.measured
            ? `  p50: 1+1 ${fmt(samples.summary('code.run.warm').p50)} ms (commands.run(['true']) ${fmt(samples.summary('code.exec.true').p50)} ms); ` +
              `chart ${fmt(samples.summary('code.chart.sdk').p50)} ms vs ${fmt(samples.summary('code.chart.kernel').p50)} ms in the kernel; ` +
              `first cell: warm pool ${fmt(samples.summary('code.firstCell.pool').p50)} ms, cold ${fmt(samples.summary('code.firstCell.cold').p50)} ms`
            : `  not measured: ${code.reason}`,
      },
      {
        key: 'desktop',
        title: `desktop: the first screenshot from a warm pool and cold; screenshots at 1280×800, through the SDK and inside the sandbox; click → pixel change; 10 idle desktops`,
        run: async () => {
          desktop = await benchDesktop(ctx);
        },
        summary: () =>
          desktop.measured
            ? `  p50: first screenshot from a warm pool ${fmt(samples.summary('desktop.firstShot.pool').p50)} ms (cold ${fmt(samples.summary('desktop.firstShot.cold').p50)} ms); ` +
              `screenshot ${fmt(samples.summary('desktop.screenshot.sdk').p50)} ms (p99 ${fmt(samples.summary('desktop.screenshot.sdk').p99)} ms; inside the sandbox ` +
              `${fmt(samples.summary('desktop.screenshot.inside').p50)} ms); click → pixel ${fmt(samples.summary('desktop.clickToPixel').p50)} ms; ` +
              `${desktop.idle.count} idle desktops: daemon RSS ${fmt(desktop.idle.daemonRssBeforeMiB, 1)} → ${fmt(desktop.idle.daemonRssMiB, 1)} MiB, ` +
              `host ${fmt(desktop.idle.hostUsedBeforeMiB, 0)} → ${fmt(desktop.idle.hostUsedMiB, 0)} MiB`
            : `  not measured: ${desktop.reason}`,
      },
      {
        key: 'check',
        title: 'paddock check, the report alone and with --probes on every tier, once each',
        run: async () => {
          check = await benchCheck(ctx);
        },
        summary: () =>
          check.measured
            ? `  report ${fmt(samples.summary('check.report').p50, 0)} ms; --probes ${fmt(samples.summary('check.probes').p50 / 1000, 1)} s ` +
              `(${check.attempted} probes on ${check.tiers.join(', ')}, ${check.broken} broken)`
            : `  not measured: ${check.reason}`,
      },
      {
        key: 'peers',
        title: `peers: a sandbox, python3 -c 'print(1)', its output, removal — Docker, Podman, sandbox-runtime and Paddock, ${config.peerRounds} rounds, interleaved`,
        run: async () => {
          peers = await benchPeers(ctx, join(root, 'peers'), raw.cgroupParent, cleanup);
        },
        summary: () =>
          `  p50 until removed: ${['docker', 'podman', 'srtCli', 'srtLibrary', 'paddockCold', 'paddockWarm', 'paddockExec', 'host']
            .filter((k) => samples.has(`peers.${k}.total`))
            .map((k) => `${k} ${fmt(samples.summary(`peers.${k}.total`).p50)} ms`)
            .join(', ')}${peers?.skipped.length ? `; skipped: ${peers.skipped.map((x) => x.peer).join(', ')}` : ''}`,
      },
      {
        key: 'dashboard-rss',
        title: "the dashboard's cost to idle RSS: a daemon with it served and loaded in chromium against one with --dashboard-dir ''",
        run: async () => {
          dashboardRss = await benchDashboardRss(root, config.cacheDir, cleanup);
          if (!dashboardRss) notes.add("The dashboard's RSS cost was not measured: /usr/bin/chromium is not installed.");
        },
        summary: () =>
          dashboardRss
            ? `  served and loaded ${dashboardRss.loads}×: ${fmt(dashboardRss.servedMiB, 1)} MiB; no dashboard: ${fmt(dashboardRss.offMiB, 1)} MiB; ${dashboardRss.servedMiB >= dashboardRss.offMiB ? '+' : ''}${fmt(dashboardRss.servedMiB - dashboardRss.offMiB, 1)} MiB`
            : '  not measured',
      },
      {
        key: 'mcp',
        title: `MCP: run_command against SDK exec, and a gateway tool call against the same server run directly, ${config.execIterations} rounds each`,
        run: async () => {
          mcp = await benchMcp(ctx);
        },
        summary: () =>
          `  run_command p50: MCP over HTTP ${fmt(samples.summary('mcp.exec.mcpHttp').p50)} ms, over stdio ${fmt(samples.summary('mcp.exec.mcpStdio').p50)} ms, ` +
          `bare POST ${fmt(samples.summary('mcp.exec.mcpPost').p50)} ms (through fetch ${fmt(samples.summary('mcp.exec.mcpFetch').p50)} ms), ` +
          `SDK exec ${fmt(samples.summary('mcp.exec.sdk').p50)} ms; gateway tool call p50: MCP over HTTP ${fmt(samples.summary('mcp.gateway.mcpHttp').p50)} ms, ` +
          `API ${fmt(samples.summary('mcp.gateway.api').p50)} ms, direct ${fmt(samples.summary('mcp.gateway.direct').p50)} ms; ` +
          `daemon RSS ${fmt(mcp?.rssBeforeMiB ?? Number.NaN, 1)} → ${fmt(mcp?.rssAfterMiB ?? Number.NaN, 1)} MiB`,
      },
      {
        key: 'daemon-rss',
        title: 'daemon idle RSS after the run (the MCP and gateway sections ran, the dashboard loaded once; no sandboxes left)',
        run: async () => {
          daemonRss.dashboardLoaded = await loadDashboardOnce(daemon.endpoint.url, daemon.token);
          if (!daemonRss.dashboardLoaded) notes.add('The dashboard was not loaded before the idle RSS after the run: /usr/bin/chromium is not installed.');
          await daemon.api.call('DELETE', '/v1/sandboxes');
          await sleep(1000);
          const pid = daemon.endpoint.pid;
          daemonRss.endMiB = toMiB(procStatusBytes(pid));
          daemonRss.endAnonMiB = toMiB(procStatusBytes(pid, 'RssAnon'));
          daemonRss.endFileMiB = toMiB(procStatusBytes(pid, 'RssFile'));
          // At rest, as at start: after the full GC V8's memory reducer would do in its own time.
          try {
            const heap = await daemon.forceGc();
            await sleep(500);
            daemonRss.afterGcMiB = toMiB(procStatusBytes(pid));
            daemonRss.heapUsedAfterGcMiB = toMiB(heap.heapUsed);
          } catch (err) {
            notes.add(`forcing a GC in the daemon failed: ${(err as Error).message}`);
          }
        },
        summary: () =>
          `  ${fmt(daemonRss.endMiB, 1)} MiB (anonymous ${fmt(daemonRss.endAnonMiB, 1)}, file-backed ${fmt(daemonRss.endFileMiB, 1)}); ` +
          `after a forced full GC ${fmt(daemonRss.afterGcMiB, 1)} MiB, V8 heap in use ${fmt(daemonRss.heapUsedAfterGcMiB, 1)} MiB`,
      },
      {
        key: 'idle-memory',
        title: `memory of ${config.idleSandboxes} idle sandboxes`,
        run: async () => {
          idleMemory = await benchIdleMemory(ctx);
        },
        summary: () => {
          const m = idleMemory;
          return m
            ? `  per sandbox: processes ${fmt(toMiB(m.processRss), 2)} MiB RSS, cgroup ${fmt(toMiB(m.cgroupUsage), 2)} MiB, daemon +${fmt(toMiB(m.daemonDelta), 2)} MiB, beyond processes ${fmt(toMiB(m.beyondProcesses), 2)} MiB`
            : '';
        },
      },
      {
        key: 'network',
        title: 'network: request latency through the egress proxy, downloads, and its cost to a cold create',
        run: async () => {
          if (!upstream) throw new Error('the upstream servers were not started');
          network = await benchNetwork(ctx, upstream);
        },
        summary: () =>
          `  small GET p50: HTTP ${fmt(samples.summary('net.http.proxy').p50, 3)} ms through the proxy vs ${fmt(samples.summary('net.http.direct').p50, 3)} ms direct, ` +
          `HTTPS pass-through ${fmt(samples.summary('net.https.passThrough').p50, 3)} / intercepted ${fmt(samples.summary('net.https.intercepted').p50, 3)} vs ${fmt(samples.summary('net.https.direct').p50, 3)} ms direct; ` +
          `download MB/s: direct ${fmt(samples.summary('net.mbps.httpsDirect').p50, 0)}, pass-through ${fmt(samples.summary('net.mbps.passThrough').p50, 0)}, ` +
          `intercepted ${fmt(samples.summary('net.mbps.intercepted').p50, 0)}; create → first output ${fmt(samples.summary('net.create.proxy.firstOutput').p50)} ms ` +
          `with the proxy network vs ${fmt(samples.summary('net.create.none.firstOutput').p50)} ms without`,
      },
      {
        key: 'ports',
        title: 'ports: a small request and a 100 MB download through ingress against the same server on the host, both tiers; 1,000 idle connections',
        run: async () => {
          ports = await benchPorts(ctx);
        },
        summary: () => {
          const s = (name: string) => samples.summary(`ports.${name}`);
          const tier = (k: string, label: string) =>
            `  ${label}: small GET p50 direct ${fmt(s(`${k}small.direct`).p50, 3)} ms, host form ${fmt(s(`${k}small.hostForm`).p50, 3)} ms ` +
            `(p99 ${fmt(s(`${k}small.hostForm`).p99, 3)}), path form ${fmt(s(`${k}small.pathForm`).p50, 3)} ms (p99 ${fmt(s(`${k}small.pathForm`).p99, 3)}); ` +
            `100 MB MB/s direct ${fmt(s(`${k}mbps.direct`).p50, 0)}, host form ${fmt(s(`${k}mbps.hostForm`).p50, 0)} ` +
            `(${fmt((100 * s(`${k}mbps.hostForm`).p50) / s(`${k}mbps.direct`).p50, 0)}%), path form ${fmt(s(`${k}mbps.pathForm`).p50, 0)}; ` +
            `GET on a new connection p50 direct ${fmt(s(`${k}fresh.direct`).p50, 3)} ms, host form ${fmt(s(`${k}fresh.hostForm`).p50, 3)} ms; ` +
            `opened by ${(ports?.routes[label] ?? []).join(', ') || 'unknown'}`;
          const lines = [tier('', 'container')];
          if (samples.has('ports.gvisor.small.direct')) lines.push(tier('gvisor.', 'gvisor'));
          lines.push(
            `  ${ports?.idleHeld ?? 0} of ${ports?.idleAsked ?? 0} idle connections held; API GET p50 ${fmt(s('idle.apiGet').p50)} ms, p99 ${fmt(s('idle.apiGet').p99)} ms`,
          );
          return lines.join('\n');
        },
      },
      {
        key: 'images',
        title: `images: pull + unpack of a ${config.imageMiB} MiB image against skopeo + umoci, ${config.imageRounds} rounds; the first sandbox from it; a cached rebuild, ${config.buildRounds} rounds`,
        run: async () => {
          if (!registry) throw new Error('the registry was not started');
          await benchImages(ctx, registry);
        },
        summary: () =>
          `  pull + unpack p50: Paddock ${fmt(samples.summary('images.pull.paddock').p50, 0)} ms vs skopeo copy + umoci unpack ${fmt(samples.summary('images.pull.raw').p50, 0)} ms ` +
          `(${fmtRatio(ratio(samples.summary('images.pull.paddock').p50, samples.summary('images.pull.raw').p50))}, ${imageDataLayers} data layers); ` +
          `first sandbox from the image ${fmt(samples.summary('images.firstSandbox.image').p50)} ms vs base ${fmt(samples.summary('images.firstSandbox.base').p50)} ms; ` +
          `cached rebuild ${fmt(samples.summary('images.cachedRebuild').p50)} ms`,
      },
      {
        key: 'volumes',
        title: `volumes: cold create with a volume and without, ${config.createIterations} rounds; sequential write of ${config.volumeWriteMiB} MiB, ${config.volumeWriteRounds} rounds`,
        run: () => benchVolumes(ctx),
        summary: () =>
          `  create → first output p50: ${fmt(samples.summary('volumes.create.volume.firstOutput').p50)} ms with a volume vs ${fmt(samples.summary('volumes.create.none.firstOutput').p50)} ms without; ` +
          `write ${fmt(samples.summary('volumes.write.volume').p50, 0)} MB/s into a volume vs ${fmt(samples.summary('volumes.write.host').p50, 0)} MB/s on the host; ` +
          `volume create ${fmt(samples.summary('volumes.volumeCreate').p50, 0)} ms, remove ${fmt(samples.summary('volumes.volumeDelete').p50, 0)} ms`,
      },
      {
        key: 'throughput',
        title: `throughput: create + exec + kill from 4 clients, raw runc run + delete the same, in turns (4 × 5 s each); a burst of ${config.burstCreates} creates`,
        run: async () => {
          throughput = await benchThroughput(ctx);
          const tiers = onPath('runsc') ? ['container', 'gvisor'] : ['container'];
          burst = await benchBurst(ctx, config.burstCreates, tiers);
          await benchRawBurst(ctx, config.burstCreates, tiers);
          if (burst.firstError) ctx.notes.add(`the burst of ${burst.count} creates: ${burst.failed} failed, the first with: ${burst.firstError}`);
        },
        summary: () =>
          `  ${fmt(throughput?.perSecond ?? Number.NaN, 1)} per second vs raw runc ${fmt(throughput?.rawPerSecond ?? Number.NaN, 1)}; ` +
          `burst: ${burst ? burst.count - burst.failed : 0}/${config.burstCreates} made, p95 ${fmt(samples.summary('burst.create').p95 / 1000, 2)} s (raw runc/runsc run --detach p95 ${fmt(samples.summary('burst.raw').p95 / 1000, 2)} s)`,
      },
      {
        key: 'density',
        title: `density: ${config.densitySandboxes} idle sandboxes, then the API's latency`,
        run: async () => {
          density = await benchDensity(ctx, config.densitySandboxes);
        },
        summary: () =>
          `  ${density?.count ?? 0} made in ${fmt(density?.createSeconds ?? Number.NaN, 1)} s; with all alive, GET p99 ${fmt(samples.summary('density.get').p99)} ms, ` +
          `exec p99 ${fmt(samples.summary('density.exec').p99)} ms; all killed in ${fmt(density?.killAllSeconds ?? Number.NaN, 1)} s ` +
          `(GET /v1/health p99 ${fmt(samples.summary('density.killAll.health').p99)} ms meanwhile; RSS peak ${fmt(density?.killAllRssMiB.peak ?? Number.NaN, 0)} MiB)`,
      },
      {
        key: 'warm-daemon',
        title:
          `the exec, the warm pool claim and the gateway call once the daemon is warm: ${steadyWarmUpCalls} execs, then ${config.execIterations} timed; ` +
          `${warmClaimWarmUps} claims, then ${config.createIterations} timed; ${steadyWarmUpCalls} gateway calls (and as many through its floor), then timed as the MCP section does`,
        run: async () => {
          // After the density section's thousands of teardowns the kernel may still be releasing their cgroups: wait as at the start.
          const settled = await waitForQuietHost(ctx.progress, abort.signal);
          if (!settled.settled) ctx.notes.add(`the warm daemon's figures were taken on a host still busy after ${settled.waitedSeconds} s of waiting`);
          await benchSteadyExec(ctx);
          await benchSteadyClaim(ctx);
          await benchSteadyGateway(ctx);
        },
        summary: () =>
          `  exec p50 ${fmt(samples.summary('exec.httpSteady').p50)} ms (the exec section's: ${fmt(samples.summary('exec.http').p50)} ms), ` +
          `claim → first output p50 ${fmt(samples.summary('pool.firstOutputSteady').p50)} ms (the pool section's: ${fmt(samples.summary('pool.firstOutput').p50)} ms), ` +
          `gateway call over /mcp p50 ${fmt(samples.summary('mcp.gatewaySteady.mcpHttp').p50)} ms, its relay floor ${fmt(samples.summary('mcp.gatewaySteady.relay').p50)} ms, ` +
          `the server directly ${fmt(samples.summary('mcp.gatewaySteady.direct').p50)} ms`,
      },
    ];
    if (allSections.map((section) => section.key).join() !== sectionKeys.join()) throw new Error('bench: sectionKeys does not list the sections in order');
    const sections = allSections.filter((section) => selected(section.key));
    for (const [i, section] of sections.entries()) {
      if (abort.signal.aborted) break;
      const t = performance.now();
      log(`\n[${i + 1}/${sections.length}] ${section.title} …`);
      try {
        await section.run();
        log(section.summary());
        log(`  done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      } catch (err) {
        if (abort.signal.aborted) break;
        const message = `${section.title}: ${(err as Error).message}`;
        failures.push(message);
        log(`  FAILED: ${(err as Error).message}`);
        if (!daemon.alive()) {
          log(`  paddockd is gone; its log ends with:\n${daemon.logTail()}`);
          break;
        }
      }
    }
  } catch (err) {
    if (!abort.signal.aborted) failures.push((err as Error).message);
    log(`\nFAILED: ${(err as Error).message}`);
  } finally {
    log('\ncleaning up …');
    await cleanup.run();
  }

  const leftovers = checkLeftovers(root, cgroupParents);
  log(leftovers.length ? `cleanup left: ${leftovers.join('; ')}` : 'cleanup verified: no sandbox, mount, container, cgroup or temp folder left');
  if (abort.signal.aborted) process.exit(130);

  const partial: Omit<Results, 'targets'> = {
    schema: 1,
    date: new Date().toISOString(),
    durationSeconds: (performance.now() - startedAt) / 1000,
    machine,
    host: { ...settling, start: hostAtStart, end: readHostState(), speed: { start: speedAtStart, end: measureHostSpeed() } },
    config,
    paddockVersion,
    series: samples.summaries(),
    samples: samples.raw(),
    daemonRss,
    dashboardRss,
    cli,
    desktop,
    idleMemory,
    governance,
    throughput,
    burst,
    density,
    network,
    ports,
    mcp,
    peers,
    check,
    failures,
    notes: [...notes],
    cleanup: { verified: leftovers.length === 0, leftovers },
  };
  const results: Results = { ...partial, targets: computeTargets(partial) };
  console.log(renderTerminal(results));

  const resultsDir = join(repoRoot, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  // A partial run (BENCH_ONLY) must not replace the full run's figures.
  const resultsFile = join(resultsDir, config.only ? 'partial.json' : 'latest.json');
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${resultsFile}`);
  if (config.only) {
    log('BENCHMARKS.md left unchanged: a partial run (BENCH_ONLY)');
  } else if (failures.length === 0) {
    await writeFile(join(repoRoot, 'BENCHMARKS.md'), renderMarkdown(results));
    log(`wrote ${join(repoRoot, 'BENCHMARKS.md')}`);
  } else {
    log(`BENCHMARKS.md left unchanged: ${failures.length} benchmark(s) failed:`);
    for (const f of failures) log(`  - ${f}`);
  }
  log(`total ${results.durationSeconds.toFixed(0)} s`);
  process.exit(failures.length ? 1 : 0);
}

/** What a clean run must not leave: the temp folder, mounts below it, our cgroup parents. */
function checkLeftovers(root: string, cgroupParents: string[]): string[] {
  const left: string[] = [];
  if (existsSync(root)) left.push(`${root} still exists`);
  const mounts = mountsUnder(root);
  if (mounts.length) left.push(`${mounts.length} mount(s) under ${root}`);
  // A daemon started on the temp folder (the peers' dockerd and containerd, a conmon) names it on its command line.
  const holders = processesNaming(root);
  if (holders.length) left.push(`processes still naming ${root}: ${holders.join(', ')}`);
  for (const parent of cgroupParents) {
    const dirs = readdirSync('/sys/fs/cgroup')
      .map((c) => join('/sys/fs/cgroup', c, parent))
      .filter((d) => existsSync(d));
    if (existsSync(join('/sys/fs/cgroup', parent)) && !dirs.includes(join('/sys/fs/cgroup', parent))) dirs.push(join('/sys/fs/cgroup', parent));
    if (dirs.length) left.push(`cgroup ${parent} in ${dirs.length} hierarchies`);
  }
  return left;
}

function processesNaming(root: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(join('/proc', pid, 'cmdline'), 'utf8').split('\0');
      if (argv.some((arg) => arg.includes(root))) found.push(`${pid} ${argv[0]}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

main().catch((err: unknown) => {
  console.error(`bench: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
