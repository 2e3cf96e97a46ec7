import { type CliOutcome, type IdleMemory, steadyWarmUpCalls } from './benchmarks.js';
import type { CheckOutcome } from './check-bench.js';
import type { BenchConfig } from './config.js';
import type { DesktopOutcome } from './desktop-bench.js';
import type { HostSpeed } from './host-speed.js';
import type { HostState, Settling } from './host-state.js';
import { imageDataLayers } from './image-bench.js';
import { type BurstOutcome, type DensityOutcome, type ThroughputOutcome, warmClaimWarmUps } from './lifecycle-bench.js';
import type { Machine } from './machine.js';
import type { McpOutcome } from './mcp-bench.js';
import { toMiB } from './memory.js';
import type { NetworkOutcome } from './network-bench.js';
import type { PeersOutcome } from './peers-bench.js';
import type { PortsOutcome } from './ports-bench.js';
import { fmt, fmtRatio, ratio, type Summary } from './stats.js';

export interface Target {
  id: string;
  what: string;
  target: string;
  /** The measured figure as shown, e.g. "1.31× (52.1 / 39.8 ms)". */
  measured: string;
  value: number | null;
  met: boolean | null;
}

export interface Results {
  schema: 1;
  date: string;
  durationSeconds: number;
  machine: Machine;
  /** How long the run waited for a quiet host, and the host's state at its start and end. */
  host: Settling & { start: HostState; end: HostState; speed?: { start: HostSpeed; end: HostSpeed } };
  config: BenchConfig;
  paddockVersion: string;
  /** Every timing series, in ms (net.mbps.* are download speeds, in MB/s). */
  series: Record<string, Summary>;
  /** The recorded values behind `series`, in ms. */
  samples: Record<string, number[]>;
  daemonRss: {
    /** A second after start, as read then (V8 has not yet shrunk its heap after the start's work). */
    startMiB: number;
    /** Then after a full V8 GC forced through the inspector: the daemon at rest (the first target). */
    startSettledMiB: number;
    /** After the run (the MCP, gateway and dashboard paths among it), no sandboxes left, as read then. */
    endMiB: number;
    /** Split of endMiB from /proc/<pid>/status. */
    endAnonMiB: number;
    endFileMiB: number;
    /** After the readings above, a full V8 GC forced through the inspector: the daemon at rest after the run (the second target). */
    afterGcMiB: number;
    heapUsedAfterGcMiB: number;
    /** Whether the dashboard was loaded from this daemon (in chromium) before the readings after the run. */
    dashboardLoaded: boolean;
  };
  /** Idle RSS of a daemon serving no dashboard and of one whose dashboard chromium loaded `loads` times. */
  dashboardRss: { offMiB: number; servedMiB: number; loads: number } | null;
  cli: CliOutcome;
  /** The DESKTOP section's idle desktops and click counts (its timings are the desktop.* series). */
  desktop?: DesktopOutcome;
  idleMemory: IdleMemory | null;
  /** Audit appends per second with the hash chain, measured in-process. */
  governance: { appendsPerSecond: number } | null;
  throughput: ThroughputOutcome | null;
  burst?: BurstOutcome | null;
  density: DensityOutcome | null;
  /** The NETWORK section's settings (its figures are the net.* series). */
  network: NetworkOutcome | null;
  /** The PORTS section's settings (its figures are the ports.* series). */
  ports?: PortsOutcome | null;
  /** The daemon's RSS around the MCP section (measured after the idle figure: the MCP code it loads stays). */
  mcp: McpOutcome | null;
  /** The PEERS section's rounds and the peers it could not run (its figures are the peers.* series). */
  peers: PeersOutcome | null;
  /** `paddock check` against the bench daemon (its figures are check.*). */
  check?: CheckOutcome;
  targets: Target[];
  failures: string[];
  notes: string[];
  cleanup: { verified: boolean; leftovers: string[] };
}

const s = (r: Results, name: string): Summary | undefined => r.series[name];
const p50 = (r: Results, name: string) => s(r, name)?.p50 ?? Number.NaN;
const p95 = (r: Results, name: string) => s(r, name)?.p95 ?? Number.NaN;
const p99 = (r: Results, name: string) => s(r, name)?.p99 ?? Number.NaN;

/** A row's figure from the warm-daemon section (`after` the calls that warmed it), or nothing when that section did not run. */
function warmFigure(r: Results, name: string, after: string): string {
  const warm = p50(r, name);
  return Number.isFinite(warm) ? `; the same daemon warm, after ${after} at the end of the run: ${fmt(warm)} ms` : '';
}

/** The exec each call after 35 ms idle, against the floor server's after the same idle, where measured. */
function afterIdleFigure(r: Results): string {
  if (!s(r, 'exec.httpAfterIdle') || !s(r, 'exec.nodeFloorAfterIdle')) return '';
  return `; each call after 35 ms idle: ${fmt(p50(r, 'exec.httpAfterIdle'))} ms, floor ${fmt(p50(r, 'exec.nodeFloorAfterIdle'))} ms`;
}

/** A target's reading and verdict: not measured (null, null) when the figure is missing. */
function atMost(v: number, limit: number): Pick<Target, 'value' | 'met'> {
  return Number.isFinite(v) ? { value: v, met: v <= limit } : { value: null, met: null };
}

function atLeast(v: number, limit: number): Pick<Target, 'value' | 'met'> {
  return Number.isFinite(v) ? { value: v, met: v >= limit } : { value: null, met: null };
}

export function computeTargets(r: Omit<Results, 'targets'>): Target[] {
  const rr = r as Results;
  const createRatio = ratio(p50(rr, 'paddock.firstOutput'), p50(rr, 'runcOverlay.firstOutput'));
  const gvisorRatio = ratio(p50(rr, 'gvisor.paddock.firstOutput'), p50(rr, 'gvisor.runscOverlay.firstOutput'));
  const diskRatio = ratio(p50(rr, 'paddockDisk.firstOutput'), p50(rr, 'paddock.firstOutput'));
  const exec = p50(rr, 'exec.http');
  const authorize = p50(rr, 'governance.authorize');
  const scopeCheck = p50(rr, 'governance.scopeCheck');
  const governed = p50(rr, 'governance.exec.with') - p50(rr, 'governance.exec.without');
  const cli = r.cli.measured ? p50(rr, 'cli.paddockRun') : Number.NaN;
  const cliWarm = r.cli.measured && s(rr, 'cli.paddockRunWarm') ? p50(rr, 'cli.paddockRunWarm') : Number.NaN;
  // Floors under two rows: what the same work costs with no Paddock code in it.
  // gVisor: raw runsc starts the command as the sandbox's first process; a Paddock sandbox starts its agent first and
  // the command is a second process start inside gVisor (the agent socket's exec row).
  const gvisorFloor = p50(rr, 'gvisor.runscOverlay.firstOutput') + p50(rr, 'gvisorExec.agent');
  // `paddock run`: Node starting the CLI plus a raw `runc run` cold create, before any CLI or daemon work. Node's
  // start as `paddock` pays it: without reading NODE_EXTRA_CA_CERTS, where the environment sets it.
  const nodeStart = s(rr, 'cli.nodeStartupNoExtraCa') ? p50(rr, 'cli.nodeStartupNoExtraCa') : p50(rr, 'cli.nodeStartup');
  const cliFloor = nodeStart + p50(rr, 'runcOverlay.firstOutput');
  const rssStart = r.daemonRss.startSettledMiB;
  const rssAfter = r.daemonRss.afterGcMiB;
  const dashboardRssAdded = r.dashboardRss ? r.dashboardRss.servedMiB - r.dashboardRss.offMiB : null;
  const perSandbox = r.idleMemory ? toMiB(r.idleMemory.beyondProcesses) : Number.NaN;
  const proxyAdds = p50(rr, 'net.http.proxy') - p50(rr, 'net.http.direct');
  const tunnelAdds = p50(rr, 'net.https.passThrough') - p50(rr, 'net.https.direct');
  const openedAdds = p50(rr, 'net.https.intercepted') - p50(rr, 'net.https.direct');
  const proxyWorst = Math.max(proxyAdds, tunnelAdds);
  const passShare = ratio(p50(rr, 'net.mbps.passThrough'), p50(rr, 'net.mbps.httpsDirect'));
  const ingressAdds = Math.max(p50(rr, 'ports.small.hostForm'), p50(rr, 'ports.small.pathForm')) - p50(rr, 'ports.small.direct');
  const ingressShare = ratio(Math.min(p50(rr, 'ports.mbps.hostForm'), p50(rr, 'ports.mbps.pathForm')), p50(rr, 'ports.mbps.direct'));
  const idleApiP99 = p99(rr, 'ports.idle.apiGet');
  const setupAdds = p50(rr, 'net.create.proxy.firstOutput') - p50(rr, 'net.create.none.firstOutput');
  const mcpHttpRatio = ratio(p50(rr, 'mcp.exec.mcpHttp'), p50(rr, 'mcp.exec.sdk'));
  const mcpStdioRatio = ratio(p50(rr, 'mcp.exec.mcpStdio'), p50(rr, 'mcp.exec.sdk'));
  // What the MCP SDK's client (over Node's fetch) costs beyond a bare POST, measured against a server that answers at once.
  const mcpClientAdds = p50(rr, 'mcp.floor.mcpClient') - p50(rr, 'mcp.floor.nodeHttp');
  const gatewayAdds = overDirect(rr, 'mcp.gateway', 'mcpHttp');
  const pullRatio = ratio(p50(rr, 'images.pull.paddock'), p50(rr, 'images.pull.raw'));
  const rebuild = p50(rr, 'images.cachedRebuild');
  const firstSandboxRatio = ratio(p50(rr, 'images.firstSandbox.image'), p50(rr, 'images.firstSandbox.base'));
  const volumeAdds = p50(rr, 'volumes.create.volume.firstOutput') - p50(rr, 'volumes.create.none.firstOutput');
  const writeShare = ratio(p50(rr, 'volumes.write.volume'), p50(rr, 'volumes.write.host'));
  const pythonRatio = ratio(Math.max(p50(rr, 'python.run.sync'), p50(rr, 'python.run.async')), p50(rr, 'python.run.typescript'));
  const pythonImport = p50(rr, 'python.import');
  const e2bFirstRatio = ratio(p50(rr, 'e2b.first.e2b'), p50(rr, 'e2b.first.paddock'));
  const e2bRunRatio = ratio(p50(rr, 'e2b.run.e2b'), p50(rr, 'e2b.run.paddock'));
  const codeWarm = p50(rr, 'code.run.warm');
  const codeFirst = p50(rr, 'code.firstCell.pool');
  const codeChart = ratio(p50(rr, 'code.chart.sdk'), p50(rr, 'code.chart.kernel'));
  const desktopFirst = p50(rr, 'desktop.firstShot.pool');
  const desktopShot = p50(rr, 'desktop.screenshot.sdk');
  const desktopShotRatio = ratio(desktopShot, p50(rr, 'desktop.screenshot.inside'));
  const desktopClick = p50(rr, 'desktop.clickToPixel');
  const idleDesktops = r.desktop?.measured ? r.desktop.idle : null;
  const checkProbes = p50(rr, 'check.probes');
  const dashboardAll = p50(rr, 'dashboard.allRows');
  const throughputRatio = r.throughput ? ratio(r.throughput.perSecond, r.throughput.rawPerSecond) : Number.NaN;
  return [
    {
      id: 'create',
      what: 'cold create → first output, p50',
      target: '≤ 1.3× raw `runc run`',
      measured: `${fmtRatio(createRatio)} (${fmt(p50(rr, 'paddock.firstOutput'))} vs ${fmt(p50(rr, 'runcOverlay.firstOutput'))} ms)`,
      ...atMost(createRatio, 1.3),
    },
    {
      id: 'diskCreate',
      what: 'disk-backed writable layer: cold create → first output, p50',
      target: '≤ 1.2× a tmpfs layer',
      measured: `${fmtRatio(diskRatio)} (${fmt(p50(rr, 'paddockDisk.firstOutput'))} vs ${fmt(p50(rr, 'paddock.firstOutput'))} ms)`,
      ...atMost(diskRatio, 1.2),
    },
    {
      id: 'gvisorCreate',
      what: 'gVisor tier: cold create → first output, p50',
      target: '≤ 1.2× raw `runsc run`',
      measured:
        `${fmtRatio(gvisorRatio)} (${fmt(p50(rr, 'gvisor.paddock.firstOutput'))} vs ${fmt(p50(rr, 'gvisor.runscOverlay.firstOutput'))} ms; ` +
        `floor with the agent's process start: ${fmt(gvisorFloor)} ms, ${fmtRatio(ratio(gvisorFloor, p50(rr, 'gvisor.runscOverlay.firstOutput')))})`,
      ...atMost(gvisorRatio, 1.2),
    },
    {
      id: 'exec',
      what: 'exec in a running sandbox through the API, p50',
      target: '≤ 3 ms',
      measured:
        `${fmt(exec)} ms (raw runc exec ${fmt(p50(rr, 'exec.runcExec'))} ms; floor, the agent behind a bare Node HTTP server: ` +
        `${fmt(p50(rr, 'exec.nodeFloor'))} ms, the agent socket alone ${fmt(p50(rr, 'exec.agent'))} ms` +
        `${warmFigure(rr, 'exec.httpSteady', `${steadyWarmUpCalls.toLocaleString('en')} more calls`)}${afterIdleFigure(rr)})`,
      ...atMost(exec, 3),
    },
    {
      id: 'authorize',
      what: 'authorize() (roles + the shipped Cedar policies), p50',
      target: '≤ 0.2 ms',
      measured: `${fmt(authorize, 3)} ms (p99 ${fmt(p99(rr, 'governance.authorize'), 3)} ms)`,
      ...atMost(authorize, 0.2),
    },
    {
      id: 'scopeCheck',
      what: "a capability token's scope check, added to a decision (use counted), p50",
      target: '≤ 0.05 ms',
      measured: `${fmt(scopeCheck, 3)} ms (p99 ${fmt(p99(rr, 'governance.scopeCheck'), 3)} ms)`,
      ...atMost(scopeCheck, 0.05),
    },
    {
      id: 'governanceExec',
      what: 'what governance adds to an exec, p50',
      target: '≤ 1 ms',
      measured: `${fmt(governed, 3)} ms (${fmt(p50(rr, 'governance.exec.with'))} vs ${fmt(p50(rr, 'governance.exec.without'))} ms)`,
      ...atMost(governed, 1),
    },
    {
      id: 'auditAppends',
      what: 'audit appends per second, hash chain included',
      target: '≥ 5,000',
      measured: r.governance ? `${fmt(r.governance.appendsPerSecond, 0)}/s` : 'not measured',
      value: r.governance?.appendsPerSecond ?? null,
      met: r.governance ? r.governance.appendsPerSecond >= 5000 : null,
    },
    {
      id: 'mcpExecHttp',
      what: 'MCP `run_command` round trip over Streamable HTTP (/mcp) against the same exec through the SDK, p50',
      target: '≤ 1.15×',
      measured:
        `${fmtRatio(mcpHttpRatio)} (${fmt(p50(rr, 'mcp.exec.mcpHttp'))} vs ${fmt(p50(rr, 'mcp.exec.sdk'))} ms; the daemon's side, a bare POST, ` +
        `${fmtRatio(ratio(p50(rr, 'mcp.exec.mcpPost'), p50(rr, 'mcp.exec.sdk')))}; the MCP client over a server that answers at once ` +
        `+${fmt(mcpClientAdds, 2)} ms over a bare POST; floor, the daemon's side + the MCP client's own: ` +
        `${fmtRatio(ratio(p50(rr, 'mcp.exec.mcpPost') + mcpClientAdds, p50(rr, 'mcp.exec.sdk')))})`,
      ...atMost(mcpHttpRatio, 1.15),
    },
    {
      id: 'mcpExecStdio',
      what: 'MCP `run_command` round trip over stdio (`paddock mcp`) against the same exec through the SDK, p50',
      target: '≤ 1.15×',
      measured:
        `${fmtRatio(mcpStdioRatio)} (${fmt(p50(rr, 'mcp.exec.mcpStdio'))} vs ${fmt(p50(rr, 'mcp.exec.sdk'))} ms` +
        (s(rr, 'mcp.exec.mcpStdioRelay')
          ? `; floor, a process on stdio that runs the SDK's exec for each call, no MCP server in it: ` +
            `${fmtRatio(ratio(p50(rr, 'mcp.exec.mcpStdioRelay'), p50(rr, 'mcp.exec.sdk')))})`
          : ')'),
      ...atMost(mcpStdioRatio, 1.15),
    },
    {
      id: 'gatewayCall',
      what: 'gateway: a tool call through /mcp minus the same call to the same server run directly over stdio, p50',
      target: '≤ 1.5 ms',
      measured: Number.isFinite(gatewayAdds)
        ? `+${fmt(gatewayAdds, 2)} ms (${fmt(p50(rr, 'mcp.gateway.mcpHttp'), 2)} vs ${fmt(p50(rr, 'mcp.gateway.direct'), 2)} ms; ` +
          `as a bare POST to /mcp +${fmt(overDirect(rr, 'mcp.gateway', 'mcpPost'), 2)} ms${gatewayFloor(rr)})`
        : 'not measured',
      ...atMost(gatewayAdds, 1.5),
    },
    {
      id: 'warmClaim',
      what: 'warm pool claim → first output, p50 (p99)',
      target: '≤ 5 ms (p99 ≤ 15 ms)',
      measured:
        `${fmt(p50(rr, 'pool.firstOutput'))} ms (p99 ${fmt(p99(rr, 'pool.firstOutput'))} ms; cold ${fmt(p50(rr, 'paddock.firstOutput'))} ms; ` +
        `${claimFloor(rr)}` +
        `${warmFigure(rr, 'pool.firstOutputSteady', `${warmClaimWarmUps} more claims`)})`,
      value: Number.isFinite(p50(rr, 'pool.firstOutput')) ? p50(rr, 'pool.firstOutput') : null,
      met: Number.isFinite(p50(rr, 'pool.firstOutput')) ? p50(rr, 'pool.firstOutput') <= 5 && p99(rr, 'pool.firstOutput') <= 15 : null,
    },
    {
      id: 'throughput',
      what: 'create + exec `true` + kill cycles per second (4 clients), against raw `runc run` + `delete` cycles of the same bundle (4 clients, same run)',
      target: '≥ 0.8× raw runc',
      measured: r.throughput
        ? `${fmtRatio(throughputRatio)} (${fmt(r.throughput.perSecond, 1)} vs ${fmt(r.throughput.rawPerSecond, 1)}/s on ${r.machine.nproc} cores)`
        : 'not measured',
      ...atLeast(throughputRatio, 0.8),
    },
    {
      id: 'burst',
      what: `${r.burst?.count ?? 200} concurrent creates, the tiers mixed half and half: all succeed, create p95`,
      target: 'all succeed, p95 ≤ 4 s',
      measured: r.burst
        ? `${r.burst.count - r.burst.failed}/${r.burst.count} succeeded; p95 ${fmt(p95(rr, 'burst.create') / 1000, 2)} s (p50 ${fmt(p50(rr, 'burst.create') / 1000, 2)} s; all made in ${fmt(r.burst.seconds, 1)} s; the same burst of raw \`runc\`/\`runsc run --detach\`: p95 ${fmt(p95(rr, 'burst.raw') / 1000, 2)} s)`
        : 'not measured',
      value: Number.isFinite(p95(rr, 'burst.create')) ? p95(rr, 'burst.create') : null,
      met: r.burst ? r.burst.failed === 0 && p95(rr, 'burst.create') <= 4000 : null,
    },
    {
      id: 'density',
      what: 'idle sandboxes alive with the API still answering, p99',
      target: '≥ 2,000 with p99 ≤ 50 ms',
      measured: r.density
        ? `${r.density.count} (made in ${fmt(r.density.createSeconds, 0)} s, killed with one call in ${fmt(r.density.killAllSeconds, 0)} s${killAllText(r.density, rr)}): GET p99 ${fmt(p99(rr, 'density.get'))} ms, exec p99 ${fmt(p99(rr, 'density.exec'))} ms${Number.isFinite(p50(rr, 'density.claim')) ? `, a warm pool claim p50 ${fmt(p50(rr, 'density.claim'))} ms` : ''}`
        : 'not measured',
      value: r.density?.count ?? null,
      met: r.density ? r.density.count >= 2000 && Math.max(p99(rr, 'density.get'), p99(rr, 'density.exec')) <= 50 : null,
    },
    {
      id: 'dashboardLoad',
      what: `the dashboard's first load in chromium with ${r.density?.count ?? 500} sandboxes listed: navigation → the list on screen (all counted, the rows in view drawn; timed by the page), p50`,
      target: '≤ 1 s',
      measured: Number.isFinite(dashboardAll)
        ? `${fmt(dashboardAll, 0)} ms (seen by the driver polling the page: ${fmt(p50(rr, 'dashboard.allRowsSeen'), 0)} ms)`
        : 'not measured',
      ...atMost(dashboardAll, 1000),
    },
    {
      id: 'dashboardLive',
      what: "the dashboard's live update: a sandbox made through the API → its row on the open page, p50",
      target: '≤ 250 ms',
      measured: Number.isFinite(p50(rr, 'dashboard.eventToScreen')) ? `${fmt(p50(rr, 'dashboard.eventToScreen'))} ms` : 'not measured',
      ...atMost(p50(rr, 'dashboard.eventToScreen'), 250),
    },
    {
      id: 'proxyLatency',
      what: 'egress proxy: added to a small request on loopback, p50 (HTTP through the proxy, and HTTPS pass-through)',
      target: '≤ 1 ms',
      measured: Number.isFinite(proxyWorst)
        ? `HTTP +${fmt(proxyAdds, 3)} ms (${fmt(p50(rr, 'net.http.proxy'), 3)} vs ${fmt(p50(rr, 'net.http.direct'), 3)} ms), HTTPS pass-through +${fmt(tunnelAdds, 3)} ms; ` +
          `intercepted (not judged) +${fmt(openedAdds, 3)} ms`
        : 'not measured',
      ...atMost(proxyWorst, 1),
    },
    {
      id: 'proxyThroughput',
      what: 'egress proxy: HTTPS pass-through download throughput, share of direct',
      target: '≥ 80% of direct',
      measured: Number.isFinite(passShare)
        ? `${fmt(passShare * 100, 0)}% (${fmt(p50(rr, 'net.mbps.passThrough'), 0)} vs ${fmt(p50(rr, 'net.mbps.httpsDirect'), 0)} MB/s; ` +
          `floor, TLS through one bare splice relay hop on the host: ${fmt(ratio(p50(rr, 'net.mbps.spliceTunnel'), p50(rr, 'net.mbps.httpsDirect')) * 100, 0)}%)`
        : 'not measured',
      ...atLeast(passShare, 0.8),
    },
    {
      id: 'networkSetup',
      what: 'network setup on a cold create: create → first output with the proxy network minus without, p50',
      target: '≤ 8 ms',
      measured: Number.isFinite(setupAdds)
        ? `${fmt(setupAdds)} ms (${fmt(p50(rr, 'net.create.proxy.firstOutput'))} vs ${fmt(p50(rr, 'net.create.none.firstOutput'))} ms)`
        : 'not measured',
      ...atMost(setupAdds, 8),
    },
    {
      id: 'ingressLatency',
      what: 'ingress: added to a small HTTP request to a server in a sandbox (container tier) over the same server on the host reached directly, p50',
      target: '≤ 1 ms',
      measured: Number.isFinite(ingressAdds)
        ? `+${fmt(ingressAdds, 3)} ms (host form ${fmt(p50(rr, 'ports.small.hostForm'), 3)}, path form ${fmt(p50(rr, 'ports.small.pathForm'), 3)} vs ${fmt(p50(rr, 'ports.small.direct'), 3)} ms); ` +
          `gVisor (not judged) +${fmt(Math.max(p50(rr, 'ports.gvisor.small.hostForm'), p50(rr, 'ports.gvisor.small.pathForm')) - p50(rr, 'ports.gvisor.small.direct'), 3)} ms`
        : 'not measured',
      ...atMost(ingressAdds, 1),
    },
    {
      id: 'ingressThroughput',
      what: 'ingress: 100 MB download from a sandbox (container tier), share of the same download from the host directly',
      target: '≥ 70% of direct',
      measured: Number.isFinite(ingressShare)
        ? `${fmt(ingressShare * 100, 0)}% (${fmt(Math.min(p50(rr, 'ports.mbps.hostForm'), p50(rr, 'ports.mbps.pathForm')), 0)} vs ${fmt(p50(rr, 'ports.mbps.direct'), 0)} MB/s; ` +
          `floor, one bare splice relay hop on the host: ${fmt(ratio(p50(rr, 'ports.mbps.spliceRelay'), p50(rr, 'ports.mbps.direct')) * 100, 0)}%); ` +
          `gVisor (not judged) ${fmt((100 * Math.min(p50(rr, 'ports.gvisor.mbps.hostForm'), p50(rr, 'ports.gvisor.mbps.pathForm'))) / p50(rr, 'ports.gvisor.mbps.direct'), 0)}%`
        : 'not measured',
      ...atLeast(ingressShare, 0.7),
    },
    {
      id: 'ingressIdle',
      what: 'ingress: 1,000 idle connections held into one sandbox, with the API answering, p99',
      target: '1,000 held, p99 ≤ 50 ms',
      measured: r.ports ? `${r.ports.idleHeld} held, API GET p99 ${fmt(idleApiP99)} ms` : 'not measured',
      value: Number.isFinite(idleApiP99) ? idleApiP99 : null,
      met: r.ports ? r.ports.idleHeld >= r.ports.idleAsked && idleApiP99 <= 50 : null,
    },
    {
      id: 'imagePull',
      what: `pull + unpack of a ${r.config.imageMiB} MiB image from a registry, p50`,
      target: '≤ 1.5× `skopeo copy` + `umoci unpack`',
      measured: `${fmtRatio(pullRatio)} (${fmt(p50(rr, 'images.pull.paddock'), 0)} vs ${fmt(p50(rr, 'images.pull.raw'), 0)} ms)`,
      ...atMost(pullRatio, 1.5),
    },
    {
      id: 'cachedRebuild',
      what: 'rebuild of a Dockerfile whose every step is cached, p50',
      target: '≤ 1 s',
      measured: Number.isFinite(rebuild) ? `${fmt(rebuild, 0)} ms` : 'not measured',
      ...atMost(rebuild, 1000),
    },
    {
      id: 'imageFirstSandbox',
      what: 'first sandbox from a newly pulled image: create → first output, p50',
      target: '≤ 2× a `base` cold create',
      measured: `${fmtRatio(firstSandboxRatio)} (${fmt(p50(rr, 'images.firstSandbox.image'))} vs ${fmt(p50(rr, 'images.firstSandbox.base'))} ms)`,
      ...atMost(firstSandboxRatio, 2),
    },
    {
      id: 'volumeMount',
      what: 'a mounted volume on a cold create: create → first output with one minus without, p50',
      target: '≤ 10 ms',
      measured: Number.isFinite(volumeAdds)
        ? `${fmt(volumeAdds)} ms (${fmt(p50(rr, 'volumes.create.volume.firstOutput'))} vs ${fmt(p50(rr, 'volumes.create.none.firstOutput'))} ms)`
        : 'not measured',
      ...atMost(volumeAdds, 10),
    },
    {
      id: 'volumeWrite',
      what: 'sequential write into a volume from inside a sandbox, share of the same write on the host',
      target: '≥ 80%',
      measured: Number.isFinite(writeShare)
        ? `${fmt(writeShare * 100, 0)}% (${fmt(p50(rr, 'volumes.write.volume'), 0)} vs ${fmt(p50(rr, 'volumes.write.host'), 0)} MB/s)`
        : 'not measured',
      ...atLeast(writeShare, 0.8),
    },
    {
      id: 'cli',
      what: '`paddock run -- true` end to end, against the daemon as `make up` leaves it (its warm pool of `base`), p50',
      target: '≤ 120 ms',
      measured: r.cli.measured
        ? `${fmt(cliWarm)} ms (cold, with no pool: ${fmt(cli)} ms; floor of a cold run: Node's start + a raw \`runc run\` create, ${fmt(cliFloor)} ms)`
        : 'not measured',
      ...atMost(cliWarm, 120),
    },
    {
      id: 'pythonRun',
      what: '`commands.run(["true"])` through the Python SDK, p50 (slower of sync and async)',
      target: '≤ 1.2× the TypeScript SDK',
      measured: `${fmtRatio(pythonRatio)} (sync ${fmt(p50(rr, 'python.run.sync'))}, async ${fmt(p50(rr, 'python.run.async'))} vs ${fmt(p50(rr, 'python.run.typescript'))} ms)`,
      ...atMost(pythonRatio, 1.2),
    },
    {
      id: 'pythonImport',
      what: '`import paddock` in a fresh Python, p50',
      target: '≤ 150 ms',
      measured: `${fmt(pythonImport)} ms`,
      ...atMost(pythonImport, 150),
    },
    {
      id: 'e2bFirst',
      what: '`Sandbox.create()` → first `commands.run` output through the official E2B JS SDK, p50',
      target: '≤ 1.2× `@paddock/sdk`',
      measured: `${fmtRatio(e2bFirstRatio)} (${fmt(p50(rr, 'e2b.first.e2b'))} vs ${fmt(p50(rr, 'e2b.first.paddock'))} ms)`,
      ...atMost(e2bFirstRatio, 1.2),
    },
    {
      id: 'e2bRun',
      what: "`commands.run('true')` on a running sandbox through the official E2B JS SDK, p50",
      target: '≤ 1.3× `@paddock/sdk`',
      measured: `${fmtRatio(e2bRunRatio)} (${fmt(p50(rr, 'e2b.run.e2b'))} vs ${fmt(p50(rr, 'e2b.run.paddock'))} ms; ${e2bRunGap(rr)})`,
      ...atMost(e2bRunRatio, 1.3),
    },
    {
      id: 'codeWarm',
      what: "warm `runCode('1+1')` through the SDK, p50",
      target: '≤ 10 ms',
      measured: `${fmt(codeWarm)} ms`,
      ...atMost(codeWarm, 10),
    },
    {
      id: 'codeFirstCell',
      what: 'first cell of a sandbox from a warm pool (create + `runCode`), p50',
      target: '≤ 300 ms',
      measured: `${fmt(codeFirst)} ms`,
      ...atMost(codeFirst, 300),
    },
    {
      id: 'codeChart',
      what: 'a 640×480 matplotlib chart through the SDK, p50',
      target: '≤ 1.5× the cell timed in the kernel',
      measured: `${fmtRatio(codeChart)} (${fmt(p50(rr, 'code.chart.sdk'))} vs ${fmt(p50(rr, 'code.chart.kernel'))} ms)`,
      ...atMost(codeChart, 1.5),
    },
    {
      id: 'desktopFirstShot',
      what: 'desktop from a warm pool: create → first screenshot, p50',
      target: '≤ 500 ms',
      measured: `${fmt(desktopFirst)} ms (cold ${fmt(p50(rr, 'desktop.firstShot.cold'))} ms)`,
      ...atMost(desktopFirst, 500),
    },
    {
      id: 'desktopScreenshot',
      what: 'desktop screenshot at 1280×800 through the SDK, p50',
      target: '≤ 80 ms',
      measured: `${fmt(desktopShot)} ms (${fmtRatio(desktopShotRatio)} a command's own screenshot inside the sandbox, ${fmt(p50(rr, 'desktop.screenshot.inside'))} ms)`,
      ...atMost(desktopShot, 80),
    },
    {
      id: 'desktopClick',
      what: 'desktop click → the pixel change seen in a screenshot, p50',
      target: '≤ 100 ms',
      measured: `${fmt(desktopClick)} ms${r.desktop?.measured ? ` (${r.desktop.firstShotShowedClick} of ${r.desktop.clickRounds} seen in the first screenshot after)` : ''}`,
      ...atMost(desktopClick, 100),
    },
    {
      id: 'desktopIdle',
      what: 'idle desktops alive at once, each answering a screenshot',
      target: '≥ 10',
      measured: idleDesktops
        ? `${idleDesktops.count} (daemon RSS ${fmt(idleDesktops.daemonRssBeforeMiB, 1)} → ${fmt(idleDesktops.daemonRssMiB, 1)} MiB, host memory in use ${fmt(idleDesktops.hostUsedBeforeMiB, 0)} → ${fmt(idleDesktops.hostUsedMiB, 0)} MiB)`
        : 'not measured',
      value: idleDesktops ? idleDesktops.count : null,
      met: idleDesktops ? idleDesktops.count >= 10 : null,
    },
    {
      id: 'checkProbes',
      what: '`paddock check --probes` end to end, both tiers',
      target: '≤ 3 min',
      measured: r.check?.measured
        ? `${fmt(checkProbes / 1000, 1)} s (${r.check.attempted} probes on ${r.check.tiers.join(', ')}, ${r.check.broken} broken)`
        : 'not measured',
      ...atMost(checkProbes / 1000, 180),
    },
    {
      id: 'daemonRssStart',
      what: 'daemon idle RSS at start, at rest (a full V8 GC forced first, as its memory reducer does 10–30 s after start)',
      target: '≤ 90 MiB',
      measured: `${fmt(rssStart, 1)} MiB`,
      ...atMost(rssStart, 90),
    },
    {
      id: 'daemonRssAfter',
      what: `daemon idle RSS after the run, at rest (the MCP, gateway${r.daemonRss.dashboardLoaded ? ' and dashboard' : ''} paths ran; no sandboxes; a full V8 GC forced first)`,
      target: '≤ 120 MiB',
      measured: `${fmt(rssAfter, 1)} MiB`,
      ...atMost(rssAfter, 120),
    },
    {
      id: 'dashboardRss',
      what: "what serving the dashboard adds to the daemon's idle RSS (loaded 5× in chromium, against --dashboard-dir ''; both read after a full GC)",
      target: '≤ 5 MiB',
      measured: dashboardRssAdded === null ? 'not measured' : `${fmt(dashboardRssAdded, 1)} MiB`,
      ...atMost(dashboardRssAdded ?? Number.NaN, 5),
    },
    {
      id: 'idleSandbox',
      what: 'host memory per idle sandbox beyond its own processes',
      target: '≤ 3 MiB',
      measured: Number.isFinite(perSandbox) ? `${fmt(perSandbox, 2)} MiB` : 'not measured',
      ...atMost(perSandbox, 3),
    },
  ];
}

const verdictText = (met: boolean | null) => (met === null ? 'not measured' : met ? 'met' : 'NOT met');

// ---------------------------------------------------------------------------
// Tables shared by the terminal and Markdown renderings.

interface Table {
  title: string;
  head: string[];
  rows: string[][];
  /** Printed under the table. */
  note?: string;
}

const createRows: Array<[string, string]> = [
  ['paddock', 'Paddock, HTTP API (POST create, POST exec, DELETE)'],
  ['paddockDisk', 'Paddock, HTTP API, writable layer on disk'],
  ['engine', 'Paddock engine in-process (no HTTP, no database)'],
  ['runcOverlay', 'raw `runc run`: overlay + bundle + run + delete'],
  ['runcPrepared', 'raw `runc run` on a prepared bundle'],
  ['bwrap', '`bwrap --unshare-all --ro-bind / /` (namespace floor)'],
  ['spawn', 'Node `spawn("/bin/echo")` (process floor)'],
];

function coldCreateTable(r: Results): Table {
  const base = p50(r, 'runcOverlay.firstOutput');
  const pure = p50(r, 'runcPrepared.firstOutput');
  return {
    title: `Cold create → first output → kill (ms, ${r.config.createIterations} rounds, variants interleaved)`,
    head: ['', 'first output p50', 'p95', 'full cycle p50', 'p95', '× raw runc run', '× prepared runc run'],
    rows: createRows
      .filter(([k]) => s(r, `${k}.firstOutput`))
      .map(([k, label]) => [
        label,
        fmt(p50(r, `${k}.firstOutput`)),
        fmt(p95(r, `${k}.firstOutput`)),
        fmt(p50(r, `${k}.full`)),
        fmt(p95(r, `${k}.full`)),
        fmtRatio(ratio(p50(r, `${k}.firstOutput`), base)),
        fmtRatio(ratio(p50(r, `${k}.firstOutput`), pure)),
      ]),
  };
}

function phaseTable(r: Results): Table {
  const row = (label: string, name: string): string[] => [label, fmt(p50(r, name)), fmt(p95(r, name))];
  const rows = [
    row('API: POST /v1/sandboxes', 'paddock.create'),
    row('API: POST …/exec echo hi', 'paddock.exec'),
    row('API: DELETE /v1/sandboxes/{id}', 'paddock.delete'),
    row('engine: launch (everything POST /v1/sandboxes does below HTTP)', 'engine.launch'),
    row('engine: overlay rootfs + bundle', 'engine.prepare'),
    row('engine: `runc run --detach`', 'engine.runcRun'),
    row('engine: until the agent answers', 'engine.agentReady'),
    row('engine: exec echo hi over the agent socket', 'engine.exec'),
    row("engine: `runc delete` (its cgroup's processes killed first)", 'engine.runcDelete'),
    row('engine: kill the cgroup, unmount (root, netns, sysfs) + remove', 'engine.release'),
    row('raw: overlay rootfs + bundle', 'runcOverlay.prepare'),
    row('raw: `runc run` spawn → first byte', 'runcOverlay.spawnToFirstOutput'),
    row('raw: `runc run` spawn → exit', 'runcOverlay.run'),
    row('raw: `runc delete` (container already gone)', 'runcOverlay.delete'),
    row('raw: unmount + remove rootfs', 'runcOverlay.release'),
  ];
  if (s(r, 'teardown.deleteForce')) {
    rows.push(
      row('teardown of a running sandbox: `runc delete --force`', 'teardown.deleteForce'),
      row("teardown: the engine's RuncRuntime.delete (force)", 'teardown.engine'),
      row('teardown by hand: `runc kill KILL` + wait + `runc delete`', 'teardown.killWaitDelete'),
      row('  of which `runc kill KILL`', 'teardown.kill'),
      row('  of which waiting for the init to exit', 'teardown.wait'),
      row('  of which `runc delete`', 'teardown.delete'),
      row('teardown: unmount + remove rootfs', 'teardown.release'),
    );
  }
  return { title: 'Where the time goes (ms per step)', head: ['step', 'p50', 'p95'], rows: rows.filter((x) => x[1] !== '–') };
}

const execRows: Array<[string, string]> = [
  ['http', 'Paddock, HTTP API (POST …/exec, JSON)'],
  ['sdk', 'Paddock, TypeScript SDK (`commands.run`)'],
  ['nodeFloor', 'floor: the agent behind a bare Node HTTP server (no auth, validation, policy, audit or log)'],
  ['agent', 'Paddock agent socket directly (no HTTP)'],
  ['runcExec', 'raw `runc exec <id> true`'],
  ['spawn', 'Node `spawn("true")`'],
  ['httpAfterIdle', 'Paddock, HTTP API, each call after 35 ms idle (about what `runc run` keeps a cold create waiting)'],
  ['nodeFloorAfterIdle', 'floor: the bare Node HTTP server, each call after the same idle'],
];

function gvisorTable(r: Results): Table {
  const base = p50(r, 'gvisor.runscOverlay.firstOutput');
  const createRow = (key: string, label: string) => [
    label,
    fmt(p50(r, `gvisor.${key}.firstOutput`)),
    fmt(p95(r, `gvisor.${key}.firstOutput`)),
    fmtRatio(ratio(p50(r, `gvisor.${key}.firstOutput`), base)),
  ];
  const execRow = (key: string, label: string) => [label, fmt(p50(r, `gvisorExec.${key}`)), fmt(p95(r, `gvisorExec.${key}`)), '–'];
  return {
    title: 'gVisor tier (runsc, ptrace platform): cold create → first output, and exec `true` (ms)',
    head: ['', 'p50', 'p95', '× raw runsc run'],
    rows: [
      createRow('paddock', 'create → first output: Paddock, HTTP API (tier gvisor)'),
      createRow('runscOverlay', 'create → first output: raw `runsc run`, overlay + bundle + run'),
      createRow('runscPrepared', 'create → first output: raw `runsc run` on a prepared bundle'),
      execRow('http', 'exec: Paddock, HTTP API'),
      execRow('agent', 'exec: agent socket directly'),
      execRow('runscExec', 'exec: raw `runsc exec <id> true`'),
    ].filter((row) => row[1] !== '–'),
  };
}

function lifecycleTable(r: Results): Table {
  const row = (label: string, name: string, base?: string) => [
    label,
    fmt(p50(r, name)),
    fmt(p95(r, name)),
    base ? fmtRatio(ratio(p50(r, name), p50(r, base))) : '–',
  ];
  return {
    title: 'Lifecycle (ms): warm claims (against a cold create), pause/resume, and snapshot/fork/checkpoint/rollback of a sandbox holding 100 MB',
    head: ['', 'p50', 'p95', '× baseline'],
    rows: [
      row('warm pool: POST /v1/sandboxes served from a pool', 'pool.claim', 'paddock.create'),
      row('warm pool: claim → first output of `echo hi`', 'pool.firstOutput', 'paddock.firstOutput'),
      row('  floor: a round trip that does nothing + `echo hi` through the exec floor server, after the same refill', 'pool.floor'),
      row("  the daemon's CPU over it: main thread", 'pool.firstOutput.cpuMain'),
      row("  the daemon's CPU over it: all threads", 'pool.firstOutput.cpuAll'),
      row("  the daemon's CPU over it once warm (the last section): main thread", 'pool.firstOutputSteady.cpuMain'),
      row('Paddock API: pause', 'lifecycle.pause', 'lifecycle.runcPause'),
      row('Paddock API: resume', 'lifecycle.resume', 'lifecycle.runcResume'),
      row('raw `runc pause` (baseline)', 'lifecycle.runcPause'),
      row('raw `runc resume` (baseline)', 'lifecycle.runcResume'),
      row('Paddock API: snapshot (freeze, copy the layer, thaw)', 'lifecycle.snapshot', 'lifecycle.cpCopy'),
      row('Paddock API: fork (until the fork runs)', 'lifecycle.fork', 'lifecycle.cpCopy'),
      row('  and its first output', 'lifecycle.forkFirstOutput'),
      row('Paddock API: checkpoint (freeze, copy the layer, thaw)', 'lifecycle.checkpoint', 'lifecycle.cpCopy'),
      row('Paddock API: rollback (stop, restore the layer, remount, start)', 'lifecycle.rollback', 'lifecycle.cpCopy'),
      row('`cp -a` of the same writable layer (baseline: the copy alone)', 'lifecycle.cpCopy'),
    ].filter((x) => x[1] !== '–'),
  };
}

function governanceTable(r: Results): Table {
  const row = (label: string, name: string) => [label, fmt(p50(r, name), 3), fmt(p95(r, name), 3), fmt(p99(r, name), 3)];
  return {
    title: 'Governance, in-process (ms)',
    head: ['', 'p50', 'p95', 'p99'],
    rows: [
      row('authorize(): role boundaries + the shipped Cedar policies, a request not seen before', 'governance.authorize'),
      row('↳ the same request again (its answer remembered)', 'governance.authorize.remembered'),
      row('exec `true` through the agent, no governance', 'governance.exec.without'),
      row('the same exec inside govern() (authorize, risk scoring, audit record)', 'governance.exec.with'),
    ].filter((x) => x[1] !== '–'),
    note: r.governance
      ? `Audit appends with the SHA-256 chain: ${fmt(r.governance.appendsPerSecond, 0)} per second (20,000 in a row, one process).`
      : undefined,
  };
}

function portsTable(r: Results): Table | null {
  if (!r.ports) return null;
  const rows: string[][] = [];
  for (const tier of r.ports.tiers) {
    const k = tier === 'container' ? '' : `${tier}.`;
    const way = (label: string, name: string) => [
      `${tier}: ${label}`,
      fmt(p50(r, `ports.${k}small.${name}`), 3),
      fmt(p50(r, `ports.${k}fresh.${name}`), 3),
      fmt(p50(r, `ports.${k}mbps.${name}`), 0),
    ];
    rows.push(
      way('the server on the host, directly (baseline)', 'direct'),
      way('through ingress, host form', 'hostForm'),
      way('through ingress, path form', 'pathForm'),
      way('floor: a bare relay hop on the host, the splice helper joining TCP to the host server (no HTTP, namespace or policy)', 'spliceRelay'),
    );
  }
  const routes = r.ports.tiers.map((t) => `${t}: ${(r.ports?.routes?.[t] ?? []).join(', ') || 'not recorded'}`).join('; ');
  return {
    title: 'Ports through ingress (small GET kept alive and on a new connection, ms; 100 MB download, MB/s)',
    head: ['', 'small GET p50', 'new connection p50', '100 MB MB/s p50'],
    rows: rows.filter((x) => x.slice(1).some((v) => v !== '–')),
    note: `Connections into the sandbox opened by (audit records' route) ${routes}.`,
  };
}

const mcpRows: Array<[string, string, string]> = [
  ['exec.sdk', 'exec `true` through the TypeScript SDK (`commands.run`, baseline)', 'exec.sdk'],
  ['exec.mcpHttp', 'MCP `run_command` over Streamable HTTP (/mcp on the daemon)', 'exec.sdk'],
  ['exec.mcpStdio', 'MCP `run_command` over stdio (`paddock mcp`, then the SDK over HTTP)', 'exec.sdk'],
  [
    'exec.mcpStdioRelay',
    "  floor: a process on stdio that runs the SDK's exec for each call (no MCP server: the pipes, a second process, the SDK)",
    'exec.sdk',
  ],
  ['exec.mcpPost', "the same tools/call as bare JSON POSTs to /mcp over Node's http (no MCP client): the daemon's side", 'exec.sdk'],
  ['exec.mcpFetch', "the same bare POSTs through Node's fetch (the MCP SDK transport's HTTP client)", 'exec.sdk'],
  ['floor.nodeHttp', "floor: the same tools/call to a server that answers at once (its own process), as a bare POST over Node's http", 'floor.nodeHttp'],
  ['floor.fetch', "  floor: the same bare POST through Node's fetch", 'floor.nodeHttp'],
  ['floor.mcpClient', "  floor: the same call by the MCP SDK's client (Streamable HTTP)", 'floor.nodeHttp'],
  ['floor.mcpStdioClient', "floor: the same call by the MCP SDK's client over stdio to a process that answers at once", 'floor.mcpStdioClient'],
  ['gateway.direct', 'tool call to the server run directly: a local process on stdio (baseline)', 'gateway.direct'],
  ['gateway.agent', '  floor: the same server in a sandbox, called over its agent socket alone (no HTTP, daemon, policy or audit)', 'gateway.direct'],
  [
    'gateway.relay',
    '  floor: the same server in a sandbox, called by the MCP client over HTTP through a bare Node relay on its agent socket (no daemon, session, MCP library, policy or audit)',
    'gateway.direct',
  ],
  ['gateway.api', 'the same call through the gateway API (POST /v1/gateway/tools/…/call)', 'gateway.direct'],
  ['gateway.mcpHttp', 'the same call as a gateway tool over /mcp', 'gateway.direct'],
  ['gateway.mcpStdio', 'the same call as a gateway tool over `paddock mcp`', 'gateway.direct'],
  ['gateway.mcpPost', "the same gateway tool call as a bare JSON POST to /mcp over Node's http (no MCP client)", 'gateway.direct'],
];

function mcpTable(r: Results): Table {
  return {
    title: `MCP (ms, ${r.config.execIterations} calls per way, in runs of 20, interleaved): run_command against SDK exec; a gateway tool call (policy, audit, the server in its sandbox) against the same server run directly`,
    head: [
      '',
      'p50',
      'p95',
      'p99',
      '× baseline',
      'added p50',
      "server CPU per call, p50: main thread / all threads (the daemon's; on the relay's row, the relay's)",
    ],
    rows: mcpRows
      .filter(([k]) => s(r, `mcp.${k}`))
      .map(([k, label, base]) => [
        label,
        fmt(p50(r, `mcp.${k}`), 2),
        fmt(p95(r, `mcp.${k}`), 2),
        fmt(p99(r, `mcp.${k}`), 2),
        k === base ? '–' : fmtRatio(ratio(p50(r, `mcp.${k}`), p50(r, `mcp.${base}`))),
        k === base ? '–' : `+${fmt(p50(r, `mcp.${k}`) - p50(r, `mcp.${base}`), 2)}`,
        cpuCell(r, `mcp.${k}`),
      ]),
    note: r.mcp
      ? `The daemon's RSS went from ${fmt(r.mcp.rssBeforeMiB, 1)} MiB before this section to ${fmt(r.mcp.rssAfterMiB, 1)} MiB after it (sessions ended, the gateway server removed): ` +
        'the MCP server and client code load on first use and stay.'
      : undefined,
  };
}

/**
 * The gateway row's floor: the same call by the same MCP client through a
 * bare Node relay in front of the server in its sandbox, and beside it the
 * CPU the daemon's JS thread and the relay's spend per call.
 */
function gatewayFloor(r: Results): string {
  if (!s(r, 'mcp.gateway.relay')) return '';
  const over = (key: string) => fmt(overDirect(r, 'mcp.gateway', key), 2);
  const cpu = s(r, 'mcp.gateway.mcpPost.cpuMain')
    ? `; on a CPU per call: the daemon's JS thread ${fmt(p50(r, 'mcp.gateway.mcpPost.cpuMain'), 2)} ms (a bare POST), the relay's ${fmt(p50(r, 'mcp.gateway.relay.cpuMain'), 2)} ms`
    : '';
  return `; floor, the same client through a bare Node relay in front of the server in its sandbox +${over('relay')} ms (the sandbox alone +${over('agent')} ms)${cpu}${warmGateway(r)}`;
}

/** What a way of a gateway series adds over the same call to the server run directly (p50s, ms). */
function overDirect(r: Results, series: string, way: string): number {
  return p50(r, `${series}.${way}`) - p50(r, `${series}.direct`);
}

/** The gateway row from the warm-daemon section, beside its floor warmed alike, when that section ran. */
function warmGateway(r: Results): string {
  if (!s(r, 'mcp.gatewaySteady.mcpHttp')) return '';
  const over = (key: string) => fmt(overDirect(r, 'mcp.gatewaySteady', key), 2);
  const after = `${steadyWarmUpCalls.toLocaleString('en')} more calls`;
  return `; the same daemon warm, after ${after} at the end of the run: +${over('mcpHttp')} ms, the relay after as many +${over('relay')} ms`;
}

/**
 * The warm claim's floor: measured in the claim's own conditions (after a
 * refill) when the run has it, else a bare round trip plus the exec floor,
 * both measured back to back elsewhere in the run.
 */
function claimFloor(r: Results): string {
  const backToBack = `a bare Node HTTP round trip + the exec floor, back to back: ${fmt(p50(r, 'mcp.floor.nodeHttp') + p50(r, 'exec.nodeFloor'))} ms`;
  if (!s(r, 'pool.floor')) return `floor, ${backToBack}`;
  return `floor, a round trip that does nothing + \`echo hi\` through the exec floor server, after the same refill: ${fmt(p50(r, 'pool.floor'))} ms (${backToBack})`;
}

function execTable(r: Results): Table {
  return {
    title: `Exec \`true\` in a running sandbox (ms, ${r.config.execIterations} calls per way, in runs of 20, interleaved)`,
    head: ['', 'p50', 'p95', '× runc exec', '× spawn', 'server CPU per call, p50: main thread / all threads'],
    rows: execRows
      .filter(([k]) => s(r, `exec.${k}`))
      .map(([k, label]) => [
        label,
        fmt(p50(r, `exec.${k}`)),
        fmt(p95(r, `exec.${k}`)),
        fmtRatio(ratio(p50(r, `exec.${k}`), p50(r, 'exec.runcExec'))),
        fmtRatio(ratio(p50(r, `exec.${k}`), p50(r, 'exec.spawn'))),
        cpuCell(r, `exec.${k}`),
      ]),
    note:
      "Server CPU: what the process answering the call (the daemon, or the floor server) spent on a CPU per call, all its threads' " +
      'schedstat over each run of 20 calls. The daemon against the floor server in the same run is the work Paddock adds to a call; ' +
      "across runs both move with the machine's speed, as round trips do.",
  };
}

/** A server's CPU per call (ms) for a way measured with it, as "main / all"; – for the others. */
function cpuCell(r: Results, key: string): string {
  if (!s(r, `${key}.cpuMain`)) return '–';
  return `${fmt(p50(r, `${key}.cpuMain`))} / ${fmt(p50(r, `${key}.cpuAll`))}`;
}

function cliTable(r: Results): Table {
  const title = `\`paddock run -- true\` end to end (ms, ${r.config.cliIterations} runs)`;
  if (!r.cli.measured) {
    return { title, head: ['', 'p50', 'p95'], rows: [['`paddock run -- true`', 'not measured', '–']], note: `Not measured: ${r.cli.reason}.` };
  }
  return {
    title,
    head: ['', 'p50', 'p95'],
    rows: (
      [
        ['`paddock run -- true` (create, run, kill), served by the warm pool `make up` sets', 'cli.paddockRunWarm'],
        ['`paddock run -- true`, cold (no pool)', 'cli.paddockRun'],
        ['`paddock --version` (the CLI starting: its command table, no command)', 'cli.paddockVersion'],
        ['`paddock --help` (every command loaded, no API call)', 'cli.paddockHelp'],
        ["`node -e ''` (Node start-up alone)", 'cli.nodeStartup'],
        [
          "`node -e ''` without NODE_EXTRA_CA_CERTS, which this environment sets (Node reads that file at start; `paddock` does not)",
          'cli.nodeStartupNoExtraCa',
        ],
      ] as const
    )
      .filter(([, k]) => s(r, k))
      .map(([label, k]) => [label, fmt(p50(r, k)), fmt(p95(r, k))]),
  };
}

function pythonTable(r: Results): Table | null {
  if (!s(r, 'python.run.typescript')) return null;
  const c = r.config;
  const row = (label: string, name: string, base?: string) => [
    label,
    fmt(p50(r, name)),
    fmt(p95(r, name)),
    base ? fmtRatio(ratio(p50(r, name), p50(r, base))) : '–',
  ];
  return {
    title: `Python SDK (ms; \`commands.run(["true"])\` in one running sandbox, ${c.execIterations} rounds, interleaved, each timed in its own process; ${c.cliIterations} fresh Pythons)`,
    head: ['', 'p50', 'p95', '× baseline'],
    rows: [
      row("TypeScript SDK `commands.run(['true'])` (baseline)", 'python.run.typescript'),
      row('Python SDK, `Sandbox` (sync)', 'python.run.sync', 'python.run.typescript'),
      row('Python SDK, `AsyncSandbox`', 'python.run.async', 'python.run.typescript'),
      row('`import paddock` in a fresh `python3`', 'python.import'),
      row("`python3 -c pass` (Python's own start, for scale)", 'python.start'),
    ].filter((x) => x[1] !== '–'),
  };
}

function desktopTable(r: Results): Table | null {
  if (!s(r, 'desktop.screenshot.sdk')) return null;
  const row = (label: string, name: string) => [label, fmt(p50(r, name)), fmt(p95(r, name)), fmt(p99(r, name))];
  const idle = r.desktop?.measured ? r.desktop.idle : null;
  return {
    title: 'Desktop (ms; 1280×800 screens, the TypeScript SDK over TCP)',
    head: ['', 'p50', 'p95', 'p99'],
    rows: [
      row('create from a warm pool + first screenshot', 'desktop.firstShot.pool'),
      row('cold create + first screenshot (display and helper started then)', 'desktop.firstShot.cold'),
      row('screenshot through the SDK', 'desktop.screenshot.sdk'),
      row("the same screenshot by a command inside the sandbox (Pillow's grab over the X socket + PNG), timed there", 'desktop.screenshot.inside'),
      row('click → the pixel change seen in a screenshot', 'desktop.clickToPixel'),
    ].filter((x) => x[1] !== '–'),
    note: idle
      ? `${idle.count} idle desktops alive at once (helper running in each): daemon RSS ${fmt(idle.daemonRssBeforeMiB, 1)} → ${fmt(idle.daemonRssMiB, 1)} MiB; ` +
        `host memory in use ${fmt(idle.hostUsedBeforeMiB, 0)} → ${fmt(idle.hostUsedMiB, 0)} MiB (${fmt((idle.hostUsedMiB - idle.hostUsedBeforeMiB) / idle.count, 0)} MiB a desktop).`
      : undefined,
  };
}

function codeTable(r: Results): Table | null {
  if (!s(r, 'code.run.warm')) return null;
  const row = (label: string, name: string) => [label, fmt(p50(r, name)), fmt(p95(r, name))];
  return {
    title: `Code interpreter (ms; one code-interpreter sandbox, ${r.config.execIterations} warm cells, 20 charts; first cells of fresh sandboxes)`,
    head: ['', 'p50', 'p95'],
    rows: [
      row("`runCode('1+1')`, warm, through the SDK", 'code.run.warm'),
      row("`commands.run(['true'])` in the same sandbox (no kernel, for scale)", 'code.exec.true'),
      row('640×480 matplotlib chart through the SDK', 'code.chart.sdk'),
      row('the same chart timed inside the kernel', 'code.chart.kernel'),
      row("first cell: create from a warm pool + `runCode('1+1')`", 'code.firstCell.pool'),
      row("first cell: cold create + `runCode('1+1')` (kernel started then)", 'code.firstCell.cold'),
    ].filter((x) => x[1] !== '–'),
  };
}

const peerRows: Array<[string, string]> = [
  ['docker', "Docker: `docker run --rm --network none IMAGE python3 -c 'print(1)'` (Debian's docker.io, runc)"],
  ['podman', 'Podman: `podman run --rm --network none IMAGE …` (runc, conmon)'],
  ['srtCli', 'sandbox-runtime: `srt -c "python3 -c \'print(1)\'"` (one CLI process per command)'],
  ['srtLibrary', 'sandbox-runtime as a library: `wrapWithSandboxArgv` + spawn, initialised once'],
  ['paddockCold', "Paddock cold: `Sandbox.create({ network: { mode: 'none' } })` + `commands.run` + `kill()`"],
  ['paddockWarm', 'Paddock warm: the same create served from a pool + `commands.run` + `kill()`'],
  ['paddockExec', 'Paddock exec in a running sandbox: `commands.run` alone'],
  ['host', "no isolation: `python3 -c 'print(1)'` spawned on the host (the floor, for scale)"],
];

function peersTable(r: Results): Table | null {
  if (!s(r, 'peers.paddockCold.total')) return null;
  const total = (k: string) => p50(r, `peers.${k}.total`);
  const skipped = r.peers?.skipped ?? [];
  return {
    title:
      `Peers: an isolated environment, \`python3 -c 'print(1)'\` in it, its output read, the environment removed ` +
      `(ms, ${r.peers?.rounds ?? r.config.peerRounds} rounds, interleaved; the same Debian rootfs and python3 everywhere)`,
    head: ['', 'until removed p50', 'p95', 'first output p50', '× Paddock cold', '× Paddock warm'],
    rows: peerRows
      .filter(([k]) => s(r, `peers.${k}.total`))
      .map(([k, label]) => [
        label,
        fmt(total(k)),
        fmt(p95(r, `peers.${k}.total`)),
        fmt(p50(r, `peers.${k}.firstOutput`)),
        k === 'paddockCold' ? '–' : fmtRatio(ratio(total(k), total('paddockCold'))),
        k === 'paddockWarm' ? '–' : fmtRatio(ratio(total(k), total('paddockWarm'))),
      ]),
    note:
      "Docker and Podman run the `base` template's rootfs imported as an image, with no network; sandbox-runtime runs the host's own python3 " +
      '(it isolates a host process, it has no image), no host allowed. Paddock goes through the TypeScript SDK; its warm way uses the default ' +
      'proxy network (pools hold sandboxes with it, so its removal also takes that network down), its cold way none. ' +
      `Load average at the start: ${r.machine.loadAvgAtStart.join(' / ')}.` +
      (skipped.length ? ` Not measured: ${skipped.map((x) => `${x.peer} (${x.reason})`).join('; ')}.` : ''),
  };
}

function memoryTable(r: Results): Table {
  const m = r.idleMemory;
  const rows: string[][] = [
    ['daemon RSS a second after start', `${fmt(r.daemonRss.startMiB, 1)} MiB`],
    ['  then after a forced full V8 GC (the target)', `${fmt(r.daemonRss.startSettledMiB, 1)} MiB`],
    ['daemon RSS after the run, no sandboxes', `${fmt(r.daemonRss.endMiB, 1)} MiB`],
    ['  of which anonymous (heap, malloc) / file-backed (node binary, libraries)', `${fmt(r.daemonRss.endAnonMiB, 1)} / ${fmt(r.daemonRss.endFileMiB, 1)} MiB`],
    ['  then after a forced full V8 GC (the target)', `${fmt(r.daemonRss.afterGcMiB, 1)} MiB`],
    ['  V8 heap still in use after that GC', `${fmt(r.daemonRss.heapUsedAfterGcMiB, 1)} MiB`],
  ];
  if (m) {
    const mib = (b: number) => `${fmt(toMiB(b), 2)} MiB`;
    rows.push(
      [`per idle sandbox (${m.sandboxes} idle): its processes' RSS (${fmt(m.processesPerSandbox, 0)} processes: tini + agent)`, mib(m.processRss)],
      ['  same, PSS (shared binary pages split among sandboxes)', mib(m.processPss)],
      ['  cgroup memory.usage (everything charged to the sandbox)', mib(m.cgroupUsage)],
      ['    of which anonymous (its processes)', mib(m.cgroupAnon)],
      ['    of which page cache (tmpfs, overlay upper, shmem)', mib(m.cgroupCache)],
      ['    kernel memory (slab, stacks, page tables; part of usage)', Number.isFinite(m.cgroupKernel) ? mib(m.cgroupKernel) : '–'],
      [`  daemon RSS growth per sandbox${m.daemonGcForced ? ' (full GC forced before both readings)' : ''}`, mib(m.daemonDelta)],
      ...(Number.isFinite(m.daemonHeapDelta) ? [['    of which V8 heap in use', mib(m.daemonHeapDelta)]] : []),
      ['  beyond its own processes = usage − anonymous + daemon growth', mib(m.beyondProcesses)],
    );
  }
  return { title: 'Memory', head: ['', 'value'], rows };
}

const latencyRows: Array<[string, string, string | null]> = [
  ['http.direct', 'HTTP, direct from the host (baseline)', null],
  ['http.proxy', 'HTTP through the egress proxy: sandbox → relay → paddockd → server', 'http.direct'],
  ['http.daemonOnly', "  paddockd's proxy alone: the host on the sandbox's egress socket, no relay", 'http.direct'],
  ['http.nodeProxy', '  floor: a minimal Node forward proxy on the host (no policy, audit or relay)', 'http.direct'],
  ['https.direct', 'HTTPS, direct from the host (baseline)', null],
  ['https.passThrough', 'HTTPS pass-through: one CONNECT tunnel through the egress proxy', 'https.direct'],
  ['https.nodeTunnel', '  floor: one CONNECT tunnel through the minimal Node proxy', 'https.direct'],
  ['https.intercepted', 'HTTPS intercepted: a secret bound to the host, TLS opened by the proxy', 'https.direct'],
];

const downloadRows: Array<[string, string, string]> = [
  ['httpDirect', 'HTTP, direct from the host (baseline)', 'httpDirect'],
  ['httpProxy', 'HTTP through the egress proxy (from the sandbox)', 'httpDirect'],
  ['httpNodeProxy', '  floor: through the minimal Node proxy (from the host)', 'httpDirect'],
  ['httpsDirect', 'HTTPS, direct from the host (baseline)', 'httpsDirect'],
  ['passThrough', 'HTTPS pass-through: CONNECT through the egress proxy (from the sandbox)', 'httpsDirect'],
  ['nodeTunnel', '  floor: CONNECT through the minimal Node proxy (from the host)', 'httpsDirect'],
  ['spliceTunnel', '  floor: TLS through one bare splice relay hop, no proxy (from the host)', 'httpsDirect'],
  ['intercepted', 'HTTPS intercepted: TLS opened by the proxy (from the sandbox)', 'httpsDirect'],
];

function networkTables(r: Results): Table[] {
  const n = r.network;
  if (!n || !s(r, 'net.http.direct')) return [];
  const ms = (v: number) => fmt(v, 3);
  const latency: Table = {
    title: `Egress proxy: small GET (${n.smallBytes} bytes) on one kept-alive connection (ms per request; ${n.requests} per way in ${n.blocks} runs of the client, interleaved)`,
    head: ['', 'p50', 'p95', 'p99', 'added p50'],
    rows: latencyRows
      .filter(([k]) => s(r, `net.${k}`))
      .map(([k, label, base]) => [
        label,
        ms(p50(r, `net.${k}`)),
        ms(p95(r, `net.${k}`)),
        ms(p99(r, `net.${k}`)),
        base ? `+${ms(p50(r, `net.${k}`) - p50(r, `net.${base}`))}` : '–',
      ]),
  };
  const cpu = (k: string, part: string) => {
    const v = p50(r, `net.cpuPerGB.${k}.${part}`);
    return Number.isFinite(v) && v > 0 ? fmt(v, 2) : '–';
  };
  const downloads: Table = {
    title: `Egress proxy: downloads of ${fmt(n.downloadBytes / 1024 ** 2, 0)} MiB with curl (MB/s, median of ${n.downloadRounds}, interleaved) and where the CPU goes (CPU seconds per GB)`,
    head: ['', 'MB/s', 'share of direct', 'CPU: proxy', 'relay', 'curl (sandbox)', 'server'],
    rows: downloadRows
      .filter(([k]) => s(r, `net.mbps.${k}`))
      .map(([k, label, base]) => [
        label,
        fmt(p50(r, `net.mbps.${k}`), 0),
        k === base ? '–' : `${fmt(ratio(p50(r, `net.mbps.${k}`), p50(r, `net.mbps.${base}`)) * 100, 0)}%`,
        cpu(k, 'proxy'),
        cpu(k, 'relay'),
        cpu(k, 'sandboxRest'),
        cpu(k, 'upstream'),
      ]),
    note:
      'CPU columns: paddockd (or the Node floor proxy), the in-sandbox relay, the rest of the sandbox (curl), and the bench process that serves the ' +
      `bytes, each over the download, per GB (10^9 bytes). The sandbox's CPU quota is ${n.sandboxCpus} cores (the machine), so the quota is not what is measured.`,
  };
  const row = (label: string, k: string) => [
    label,
    fmt(p50(r, `net.create.${k}.firstOutput`)),
    fmt(p95(r, `net.create.${k}.firstOutput`)),
    fmt(p50(r, `net.create.${k}.create`)),
    fmt(p50(r, `net.create.${k}.delete`)),
  ];
  const diff = (name: string) => fmt(p50(r, `net.create.proxy.${name}`) - p50(r, `net.create.none.${name}`));
  const setup: Table = {
    title: `Network setup on a cold create, container tier (ms, ${r.config.createIterations} rounds, interleaved)`,
    head: ['', 'create → first output p50', 'p95', 'POST /v1/sandboxes p50', 'DELETE p50'],
    rows: [
      row('`network: { mode: "none" }` (loopback only)', 'none'),
      row('default proxy network (namespace, nftables, relay, the daemon on its socket)', 'proxy'),
      ['  difference of the p50s', diff('firstOutput'), '–', diff('create'), diff('delete')],
    ],
  };
  return [latency, downloads, setup];
}

function imagesTable(r: Results): Table | null {
  if (!s(r, 'images.pull.paddock') && !s(r, 'images.cachedRebuild')) return null;
  const c = r.config;
  const row = (label: string, name: string, base?: string) => [
    label,
    fmt(p50(r, name), 0),
    fmt(p95(r, name), 0),
    base ? fmtRatio(ratio(p50(r, name), p50(r, base))) : '–',
  ];
  return {
    title:
      `Images and builds (ms; an image of ${c.imageMiB} MiB of random bytes in ${imageDataLayers} layers on a registry on loopback, ` +
      `${c.imageRounds} rounds, interleaved; ${c.buildRounds} cached rebuilds)`,
    head: ['', 'p50', 'p95', '× baseline'],
    rows: [
      row('Paddock: `POST /v1/templates/pull` (pull, digests checked, layers unpacked and shifted)', 'images.pull.paddock', 'images.pull.raw'),
      row('`skopeo copy docker://… oci:…` + `umoci unpack` (baseline)', 'images.pull.raw'),
      row('  of which `skopeo copy`', 'images.pull.rawCopy'),
      row('  of which `umoci unpack`', 'images.pull.rawUnpack'),
      row('first sandbox from the pulled template: create → first output', 'images.firstSandbox.image', 'images.firstSandbox.base'),
      row('`base` cold create → first output, same rounds (baseline)', 'images.firstSandbox.base'),
      row('rebuild of a Dockerfile whose every step is cached (`POST /v1/templates`)', 'images.cachedRebuild'),
    ].filter((x) => x[1] !== '–'),
  };
}

/** A difference with its sign: +5.2, -3.1. */
const signed = (v: number) => `${v > 0 ? '+' : ''}${fmt(v)}`;

function volumesTable(r: Results): Table | null {
  if (!s(r, 'volumes.create.none.firstOutput') && !s(r, 'volumes.write.host')) return null;
  const c = r.config;
  const ms = (label: string, name: string, base?: string) => [
    label,
    fmt(p50(r, name)),
    fmt(p95(r, name)),
    base ? `${signed(p50(r, name) - p50(r, base))} ms` : '–',
  ];
  const mbps = (label: string, name: string, base?: string) => [
    label,
    fmt(p50(r, name), 0),
    fmt(p95(r, name), 0),
    base ? `${fmt(ratio(p50(r, name), p50(r, base)) * 100, 0)}%` : '–',
  ];
  return {
    title: `Volumes (${c.createIterations} create rounds; ${c.volumeWriteRounds} writes of ${c.volumeWriteMiB} MiB per way; interleaved)`,
    head: ['', 'p50', 'p95', 'against baseline'],
    rows: [
      ms('cold create → first output, no volume (ms, baseline)', 'volumes.create.none.firstOutput'),
      ms('cold create → first output, one volume mounted read-write (ms)', 'volumes.create.volume.firstOutput', 'volumes.create.none.firstOutput'),
      ms('  of which POST /v1/sandboxes (ms)', 'volumes.create.volume.create', 'volumes.create.none.create'),
      ms('DELETE /v1/sandboxes/{id} of the sandbox with the volume (ms)', 'volumes.create.volume.delete', 'volumes.create.none.delete'),
      mbps('`dd … bs=1M conv=fsync` on the host, state folder file system (MB/s, baseline)', 'volumes.write.host'),
      mbps('the same `dd` into a volume, inside a sandbox (MB/s)', 'volumes.write.volume', 'volumes.write.host'),
      ms('`POST /v1/volumes` of 1 GiB (ms)', 'volumes.volumeCreate'),
      ms('`DELETE /v1/volumes/{name}` of it (ms)', 'volumes.volumeDelete'),
    ].filter((x) => x[1] !== '–'),
  };
}

function targetTable(r: Results): Table {
  return {
    title: 'Targets',
    head: ['target', 'goal', 'measured', 'verdict'],
    rows: r.targets.map((t) => [t.what, t.target, t.measured, verdictText(t.met)]),
  };
}

// ---------------------------------------------------------------------------
// Terminal

function plain(text: string): string {
  return text.replace(/`/g, '');
}

function renderText(t: Table): string {
  const rows = [t.head, ...t.rows].map((row) => row.map(plain));
  const widths = t.head.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [`${plain(t.title)}`, line(rows[0] as string[]), ...rows.slice(1).map(line), ...(t.note ? [plain(t.note)] : [])].join('\n');
}

export function renderTerminal(r: Results): string {
  const parts = [
    coldCreateTable(r),
    phaseTable(r),
    execTable(r),
    gvisorTable(r),
    governanceTable(r),
    mcpTable(r),
    ...networkTables(r),
    portsTable(r),
    imagesTable(r),
    volumesTable(r),
    cliTable(r),
    pythonTable(r),
    codeTable(r),
    desktopTable(r),
    peersTable(r),
    memoryTable(r),
    targetTable(r),
  ]
    .filter((t): t is Table => t !== null)
    .map(renderText);
  return `\n${parts.join('\n\n')}\n`;
}

// ---------------------------------------------------------------------------
// BENCHMARKS.md

/** Markdown table laid out the way Biome formats it (padded columns), so `make lint` passes on the generated file. */
function renderMd(t: Table): string {
  // Renderers (and Biome) trim cells, so indentation becomes an explicit marker.
  const cell = (c: string) => {
    const depth = Math.floor((c.length - c.trimStart().length) / 2);
    return `${'↳'.repeat(depth)}${depth ? ' ' : ''}${c.trim().replace(/\|/g, '\\|')}`;
  };
  const rows = [t.head, ...t.rows].map((row) => row.map(cell));
  const len = (c: string) => [...c].length;
  const widths = t.head.map((_, i) => Math.max(3, ...rows.map((row) => len(row[i] ?? ''))));
  const pad = (c: string, i: number) => {
    const fill = ' '.repeat((widths[i] ?? 0) - len(c));
    return i === 0 ? c + fill : fill + c;
  };
  const line = (row: string[]) => `| ${row.map(pad).join(' | ')} |`;
  const sep = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(rows[0] as string[]), sep, ...rows.slice(1).map(line), ...(t.note ? ['', t.note] : [])].join('\n');
}

/** How fast the host ran at the run's start and end (host-speed.ts): rows of two runs compare only when these do. */
function speedLine(speed: Results['host']['speed']): string {
  if (!speed) return '';
  const { start, end } = speed;
  return (
    ` Host speed, start → end: a one-byte round trip over pipes between two processes pinned to two CPUs (Node and \`cat\`), p50 ${fmt(start.pipeRoundTripUs, 0)} → ${fmt(end.pipeRoundTripUs, 0)} µs, ` +
    `SHA-256 of 64 MiB ${fmt(start.sha256Ms, 1)} → ${fmt(end.sha256Ms, 1)} ms.`
  );
}

/** The host's own work around the run: what makes the same code measure slower on another day. */
function hostLine(h: Results['host']): string {
  const waited = h.settled
    ? `quiet (no task blocked in the kernel, the memory cgroup count steady) after ${h.waitedSeconds} s of waiting`
    : `not quiet after ${h.waitedSeconds} s of waiting (figures may be inflated)`;
  return (
    `Host: ${waited}; during the run ${fmt(h.end.fileRefaults - h.start.fileRefaults, 0)} file pages were read again after the kernel had dropped them, ` +
    `and the memory cgroups it holds (live and being released) went ${fmt(h.start.memoryCgroups, 0)} → ${fmt(h.end.memoryCgroups, 0)}.${speedLine(h.speed)}`
  );
}

export function renderMarkdown(r: Results): string {
  const m = r.machine;
  const c = r.config;
  const lines: string[] = [];
  lines.push('# Benchmarks', '');
  lines.push(
    '_Written by `make bench` (bench/src/run-bench.ts); do not edit by hand. Run it again on a quiet machine to reproduce; ' +
      '[docs/benchmarks.md](docs/benchmarks.md) says how each figure is measured and which `BENCH_*` variables change the rounds._',
    '',
  );
  lines.push(
    `Machine: ${r.date}; ${m.nproc} CPUs (${m.cpuModel}); ${(m.memoryMiB / 1024).toFixed(1)} GiB; kernel ${m.kernel}, cgroup ${m.cgroup}; ` +
      `${m.runc}; ${m.runsc}; ${m.bwrap}; Node ${m.node}; Paddock ${r.paddockVersion}; load at start ${m.loadAvgAtStart.join(' / ')}; ` +
      `run time ${Math.round(r.durationSeconds)} s; ${c.createIterations} create rounds, ${c.execIterations} exec rounds, ${c.cliIterations} CLI runs, ` +
      `${c.teardownIterations} teardown rounds, ${c.idleSandboxes} idle sandboxes, warm-up ${c.warmup}.`,
    '',
    hostLine(r.host),
    '',
  );
  lines.push('## Targets', '', renderMd(targetTable(r)), '');
  lines.push('## Results', '');
  for (const t of [
    coldCreateTable(r),
    execTable(r),
    gvisorTable(r),
    lifecycleTable(r),
    governanceTable(r),
    mcpTable(r),
    ...networkTables(r),
    imagesTable(r),
    volumesTable(r),
    cliTable(r),
    pythonTable(r),
    codeTable(r),
    desktopTable(r),
    peersTable(r),
    memoryTable(r),
    phaseTable(r),
  ].filter((t): t is Table => t !== null)) {
    lines.push(`### ${t.title}`, '', renderMd(t), '');
  }
  if (r.notes.length) {
    lines.push('## Notes from this run', '');
    for (const n of r.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  lines.push(
    `Cleanup after the run: ${r.cleanup.verified ? 'verified — no sandbox, mount, runc container, cgroup or temporary folder left' : `incomplete: ${r.cleanup.leftovers.join('; ')}`}.`,
    '',
  );
  return lines.join('\n');
}

/**
 * Where commands.run('true') through the E2B SDK spends its time beyond
 * Paddock's SDK, from the section's ways (p50 differences): the login bash it
 * asks for (as user `user`) over `sh -c`, the daemon's envd protocol over the
 * native exec route (a bare client's envd call against that bash), and the
 * SDK's own client work (the SDK against the bare client).
 */
function e2bRunGap(rr: Results): string {
  const bash = p50(rr, 'e2b.run.paddockLoginBash');
  const bare = p50(rr, 'e2b.run.e2bBare');
  const plus = (a: number, b: number) => {
    const d = a - b;
    return Number.isFinite(d) ? `${d >= 0 ? '+' : '−'}${fmt(Math.abs(d))}` : '–';
  };
  return `login bash ${plus(bash, p50(rr, 'e2b.run.paddock'))}, daemon's envd ${plus(bare, bash)}, the SDK's client ${plus(p50(rr, 'e2b.run.e2b'), bare)} ms`;
}

/** What a kill-all of the density sandboxes cost besides its time: the API's latency meanwhile and the daemon's memory. */
function killAllText(density: DensityOutcome, rr: Results): string {
  const health = Number.isFinite(p99(rr, 'density.killAll.health')) ? `; meanwhile GET /v1/health p99 ${fmt(p99(rr, 'density.killAll.health'))} ms` : '';
  const rss = density.killAllRssMiB ? `, the daemon's RSS ${fmt(density.killAllRssMiB.before, 0)} → peak ${fmt(density.killAllRssMiB.peak, 0)} MiB` : '';
  return health + rss;
}
