import { isIP } from 'node:net';
import type { CheckItem } from '@paddock/core';
import type { DaemonConfig } from '../config/daemon-config.js';
import { defaultBuildHosts } from '../config/daemon-settings.js';

export interface ConfigWarningsDeps {
  config: DaemonConfig;
  /** Whether OpenTelemetry export is on (OTEL_* variables). */
  telemetryEnabled: boolean;
  /** Whether some policy can refuse making a public port link (sandbox.port.expose). */
  publicLinksRefusable: boolean;
  /** The API's URL as it listens (the port chosen when the setting is 0). */
  listeningUrl: string;
}

const loopbackNames = new Set(['localhost', 'ip6-localhost', 'ip6-loopback']);

/** Whether an address the API listens on is reachable from this host alone. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (loopbackNames.has(bare)) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

/** What a reviewer would flag in paddockd's settings. */
export function configWarnings({ config, telemetryEnabled, publicLinksRefusable, listeningUrl }: ConfigWarningsDeps): CheckItem[] {
  const items: CheckItem[] = [];
  const listening = new URL(listeningUrl).host;
  // Past loopback, only TLS (--tls-cert/--tls-key, or a terminating proxy in front) keeps tokens off the wire.
  items.push(
    isLoopback(config.host)
      ? { id: 'config.listen', title: 'API listener', status: 'ok', detail: `${listening} (loopback only)${config.tls ? ', HTTPS' : ''}` }
      : config.tls
        ? { id: 'config.listen', title: 'API listener', status: 'ok', detail: `${listening} over HTTPS (the operator's certificate)` }
        : {
            id: 'config.listen',
            title: 'API listener',
            status: 'fail',
            detail: `listening on ${listening} without TLS: tokens and secrets cross the network in clear`,
            advice: 'give paddockd a certificate (--tls-cert, --tls-key), or listen on 127.0.0.1 (--host) behind a TLS-terminating proxy',
          },
  );
  items.push(
    config.overcommit > 1
      ? {
          id: 'config.overcommit',
          title: 'overcommit',
          status: 'warn',
          detail: `one sandbox's limits may reach ${config.overcommit}× the host's memory, CPUs and disk`,
          advice: 'keep --overcommit at 1 unless sandboxes are trusted not to use what they ask for',
        }
      : { id: 'config.overcommit', title: 'overcommit', status: 'ok', detail: `${config.overcommit} (no sandbox may ask for more than the host has)` },
  );
  items.push(
    publicLinksRefusable
      ? { id: 'config.public-links', title: 'public port links', status: 'ok', detail: 'a policy can refuse sandbox.port.expose' }
      : {
          id: 'config.public-links',
          title: 'public port links',
          status: 'warn',
          detail: 'operators may make public links (no token needed to open a sandbox port) and no policy limits them',
          advice: 'forbid sandbox.port.expose in a policy where ports should only open with a token (docs/ports.md)',
        },
  );
  items.push(
    config.insecureRegistries.length
      ? {
          id: 'config.insecure-registries',
          title: 'insecure registries',
          status: 'warn',
          detail: `plain HTTP or unverified TLS allowed for ${config.insecureRegistries.join(', ')}`,
          advice: 'give these registries a certificate and drop --insecure-registry',
        }
      : { id: 'config.insecure-registries', title: 'insecure registries', status: 'ok', detail: 'none' },
  );
  items.push(
    telemetryEnabled
      ? { id: 'config.telemetry', title: 'telemetry', status: 'ok', detail: 'exported over OTLP' }
      : {
          id: 'config.telemetry',
          title: 'telemetry',
          status: 'warn',
          detail: 'off: no traces, metrics or audit anchors leave the host',
          advice: 'set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector (docs/operations.md)',
        },
  );
  items.push(
    config.auditAnchorFile || telemetryEnabled
      ? {
          id: 'config.audit-anchoring',
          title: 'audit anchoring',
          status: 'ok',
          detail: [config.auditAnchorFile && `anchors copied to ${config.auditAnchorFile}`, telemetryEnabled && 'anchors exported over OTLP']
            .filter(Boolean)
            .join('; '),
        }
      : {
          id: 'config.audit-anchoring',
          title: 'audit anchoring',
          status: 'warn',
          detail: 'signed audit anchors stay in the state folder: whoever gets root here can rewrite the log and its anchors together',
          advice: 'set --audit-anchor-file to a file on another disk or a pipe, or export anchors over OTLP (docs/operations.md)',
        },
  );
  items.push(
    config.selfApproval === 'on'
      ? {
          id: 'config.self-approval',
          title: 'self-approval',
          status: 'warn',
          detail: 'anyone may approve a request of their own, however many people hold tokens',
          advice: 'use --self-approval single-human or off',
        }
      : { id: 'config.self-approval', title: 'self-approval', status: config.selfApproval === 'off' ? 'ok' : 'info', detail: config.selfApproval },
  );
  if (config.egressAllowRanges.length) {
    items.push({
      id: 'config.egress-ranges',
      title: 'egress to private ranges',
      status: 'warn',
      detail: `sandboxes may reach ${config.egressAllowRanges.join(', ')} when their allowlist names them`,
      advice: 'keep --egress-allow-range to the services sandboxes must reach',
    });
  }
  const extraBuildHosts = config.buildAllowDomains.filter((h) => !defaultBuildHosts.includes(h));
  if (extraBuildHosts.some((h) => h === '*' || h.startsWith('*.'))) {
    items.push({ id: 'config.build-hosts', title: 'build egress', status: 'warn', detail: `every template build may reach ${extraBuildHosts.join(', ')}` });
  }
  return items;
}
