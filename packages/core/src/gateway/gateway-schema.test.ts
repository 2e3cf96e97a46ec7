import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GatewayManifestSchema, gatewayManifestJsonSchema } from './gateway-schema.js';
import { gatewayToolName, parseGatewayToolName } from './gateway-tool-names.js';

describe('gateway manifests', () => {
  it('the example in examples/ is one, with the defaults filled in', () => {
    const example = JSON.parse(readFileSync(new URL('../../../../examples/github.manifest.json', import.meta.url), 'utf8'));
    expect(GatewayManifestSchema.parse(example)).toMatchObject({ tier: 'gvisor', secrets: ['GITHUB_TOKEN'], callTimeoutMs: 60_000 });
    expect(GatewayManifestSchema.parse({})).toEqual({ template: 'base', tier: 'gvisor', callTimeoutMs: 60_000, startTimeoutMs: 60_000 });
  });

  it('refuse host paths that are relative, climb, or cover the sandbox’s own folders', () => {
    const refused = (path: string) => !GatewayManifestSchema.safeParse({ files: { read: [path] } }).success;
    for (const path of ['srv/docs', '/srv/../etc', '/srv/./docs', '/', '/etc', '/usr', '/proc/1', '/dev/kvm', '/.paddock/run', '/tmp', 'a\0b']) {
      expect(refused(path), path).toBe(true);
    }
    expect(GatewayManifestSchema.parse({ files: { write: ['/srv//reports/'] } }).files?.write).toEqual(['/srv/reports']);
  });

  it('have a JSON Schema that refuses unknown fields and says the defaults', () => {
    const schema = gatewayManifestJsonSchema() as { additionalProperties: boolean; properties: Record<string, { default?: unknown }> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.template?.default).toBe('base');
    expect(schema.properties.callTimeoutMs?.default).toBe(60_000);
  });
});

describe('gateway tool names', () => {
  it('are <server>__<tool>, split at the first separator', () => {
    expect(gatewayToolName('github', 'create_issue')).toBe('github__create_issue');
    expect(parseGatewayToolName('github__create_issue')).toEqual({ server: 'github', tool: 'create_issue' });
    expect(parseGatewayToolName('my-docs__search__deep')).toEqual({ server: 'my-docs', tool: 'search__deep' });
    for (const name of ['run_command', '__x', 'Git__x', 'github__', 'git_hub__x']) expect(parseGatewayToolName(name), name).toBeUndefined();
  });
});
