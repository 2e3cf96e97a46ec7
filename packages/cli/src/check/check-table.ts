import type { CheckItem, CheckOutput, ProbeResult } from '@paddock/core';

const marks: Record<CheckItem['status'] | ProbeResult['status'], { text: string; colour: string }> = {
  ok: { text: 'ok', colour: '32' },
  held: { text: 'held', colour: '32' },
  info: { text: 'info', colour: '36' },
  warn: { text: 'WARN', colour: '33' },
  fail: { text: 'FAIL', colour: '31;1' },
  broken: { text: 'BROKEN', colour: '31;1' },
  'not-applicable': { text: 'n/a', colour: '2' },
};

/** The report as a terminal table: one section per part, a status column coloured on a TTY. */
export function checkTable(output: CheckOutput, options: { colour: boolean }): string {
  const paint = (status: keyof typeof marks) => {
    const { text, colour } = marks[status];
    const padded = text.padEnd(6);
    return options.colour ? `\x1b[${colour}m${padded}\x1b[0m` : padded;
  };
  const lines: string[] = [];
  const section = (name: string, items: CheckItem[]) => {
    lines.push(name);
    const width = Math.max(...items.map((i) => i.title.length));
    for (const item of items) {
      lines.push(`  ${paint(item.status)}  ${item.title.padEnd(width)}   ${item.detail}`);
      if (item.advice && item.status !== 'ok' && item.status !== 'info') lines.push(`  ${' '.repeat(6)}  ${' '.repeat(width)}   → ${item.advice}`);
    }
    lines.push('');
  };
  section('HOST', output.host);
  section('CONFIG', output.config);
  section('POLICIES', output.policies);
  if (output.probes) {
    const { results, attempted, broken, brokenShare, durationMs } = output.probes;
    lines.push(`PROBES (${output.probes.tiers.join(', ')})`);
    const width = Math.max(...results.map((r) => r.id.length));
    for (const r of results) lines.push(`  ${paint(r.status)}  ${r.id.padEnd(width)}  ${r.tier.padEnd(9)}  ${r.class.padEnd(10)}  ${r.evidence}`);
    lines.push(`  ${broken} of ${attempted} attacks succeeded (${(brokenShare * 100).toFixed(1)}%) in ${(durationMs / 1000).toFixed(0)} s`);
    lines.push('');
  }
  const all = [...output.host, ...output.config, ...output.policies];
  const count = (s: CheckItem['status']) => all.filter((i) => i.status === s).length;
  lines.push(
    `${output.ok ? 'passed' : 'FAILED'}: ${count('fail')} fail, ${count('warn')} warn${output.probes ? `, ${output.probes.broken} probes broken` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
