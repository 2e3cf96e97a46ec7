import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh folder holding the tier tests' operator settings: container by
 * default, gVisor for `untrusted-*` templates and sandboxes labelled risk=high.
 */
export function writeTierConfig(): { configDir: string; configFile: string } {
  const configDir = mkdtempSync(join(tmpdir(), 'paddock-tier-config-'));
  const configFile = join(configDir, 'paddock.json');
  const rules = [
    { template: 'untrusted-*', minimum: 'gvisor' },
    { labels: { risk: 'high' }, minimum: 'gvisor' },
  ];
  writeFileSync(configFile, JSON.stringify({ tiers: { minimum: 'container', rules } }));
  return { configDir, configFile };
}
