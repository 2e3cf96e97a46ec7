import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyDockerignore, pick, readTree } from './build-context.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync('/tmp/paddock-bctx-');
  dirs.push(dir);
  return dir;
}
const tarOf = (dir: string) => execFileSync('tar', ['-c', '-C', dir, '.']);

describe('build context', () => {
  it('keeps a hard link as a copy of the file it names', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'a.txt'), 'same\n');
    linkSync(join(dir, 'a.txt'), join(dir, 'b.txt'));
    const tree = await readTree(tarOf(dir));
    expect(tree.get('b.txt')).toMatchObject({ type: 'file', data: Buffer.from('same\n') });
  });

  it('applies .dockerignore as Docker does, ! exceptions too', async () => {
    const dir = folder();
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'a.log'), '');
    writeFileSync(join(dir, 'logs', 'keep.log'), '');
    writeFileSync(join(dir, 'app.py'), '');
    writeFileSync(join(dir, '.dockerignore'), 'logs/*.log\n!logs/keep.log\n');
    const tree = applyDockerignore(await readTree(tarOf(dir)));
    expect([...tree.keys()].sort()).toEqual(['.dockerignore', 'app.py', 'logs', 'logs/keep.log']);
  });

  it('follows a symlink inside the context, and refuses one that leads out', async () => {
    const dir = folder();
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'f.txt'), 'f\n');
    symlinkSync('real', join(dir, 'alias'));
    symlinkSync('/real', join(dir, 'rooted'));
    symlinkSync('../..', join(dir, 'out'));
    const tree = await readTree(tarOf(dir));
    expect(pick(tree, 'alias/f.txt', 1).entries.map((e) => e.from)).toEqual(['real/f.txt']);
    // An absolute target is taken from the context's root, as Docker does.
    expect(pick(tree, 'rooted/f.txt', 1).entries.map((e) => e.from)).toEqual(['real/f.txt']);
    expect(() => pick(tree, 'out/etc/passwd', 7)).toThrow(/line 7: COPY out\/etc\/passwd follows a symlink out of the build context/);
    expect(() => pick(tree, '../f.txt', 7)).toThrow(/outside the build context/);
  });
});
