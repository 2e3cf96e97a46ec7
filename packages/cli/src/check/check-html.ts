import type { CheckItem, CheckOutput, ProbeResult } from '@paddock/core';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The report as one HTML file: styles inline, no script, no link to anything
 * outside it, so it can be mailed or archived and opened anywhere.
 */
export function checkHtml(output: CheckOutput): string {
  const row = (status: string, cells: string[]) =>
    `<tr class="${status}"><td class="status">${escapeHtml(status)}</td>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
  const items = (name: string, list: CheckItem[]) =>
    `<h2>${escapeHtml(name)}</h2><table><tr><th>status</th><th>check</th><th>found</th><th>advice</th></tr>${list
      .map((i) => row(i.status, [i.title, i.detail, i.advice ?? '']))
      .join('')}</table>`;
  const probes = (results: ProbeResult[]) =>
    `<table><tr><th>status</th><th>probe</th><th>tier</th><th>class</th><th>attack</th><th>evidence</th></tr>${results
      .map((r) => row(r.status, [r.id, r.tier, r.class, r.title, r.evidence]))
      .join('')}</table>`;
  const summary = output.probes
    ? `<h2>Probes</h2><p>${output.probes.broken} of ${output.probes.attempted} attacks succeeded (${(output.probes.brokenShare * 100).toFixed(1)}%) on ${escapeHtml(output.probes.tiers.join(', '))}.</p>${probes(output.probes.results)}`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>paddock check</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
td.status{font-weight:bold;white-space:nowrap}
tr.ok td.status,tr.held td.status{color:#1a7f37}
tr.warn td.status{color:#9a6700}
tr.fail td.status,tr.broken td.status{color:#cf222e}
tr.info td.status,tr.not-applicable td.status{color:#57606a}
.verdict{font-size:1.2em;font-weight:bold;color:${output.ok ? '#1a7f37' : '#cf222e'}}
</style></head><body>
<h1>paddock check</h1>
<p class="verdict">${output.ok ? 'passed' : 'FAILED'}</p>
<p>paddockd ${escapeHtml(output.version)}, checked ${escapeHtml(output.checkedAt)}</p>
${items('Host', output.host)}${items('Config', output.config)}${items('Policies', output.policies)}${summary}
</body></html>
`;
}
