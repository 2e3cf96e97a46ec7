import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Sandbox, type TemplateProgress, Templates } from '@paddock/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFastDaemon, type TestDaemon } from '../testing/fast-daemon.js';

// ADD of a local tar archive unpacks it, as Docker does; what an archive
// could do to the host when it is unpacked is probe L8 in
// dockerfile-build.test.ts, against real sandboxes.
let daemon: TestDaemon;
let dir: string;

beforeAll(async () => {
  daemon = await startFastDaemon();
  dir = mkdtempSync('/tmp/paddock-add-');
});

afterAll(async () => {
  await daemon?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A build context: archives made by the host's tar from a folder of sources. */
function contextTar(): Uint8Array {
  const src = join(dir, 'src');
  const ctx = join(dir, 'ctx');
  mkdirSync(join(src, 'app/lib'), { recursive: true });
  mkdirSync(join(ctx, 'bundle'), { recursive: true });
  writeFileSync(join(src, 'app/main.py'), 'print(1)\n');
  writeFileSync(join(src, 'app/lib/util.py'), 'X = 2\n');
  for (const name of ['plain', 'xz', 'bz2']) writeFileSync(join(src, `${name}.txt`), `from the ${name} archive\n`);
  const tar = (file: string, flag: string, ...what: string[]) => execFileSync('tar', [`-c${flag}f`, join(ctx, file), '-C', src, ...what]);
  tar('app.tar.gz', 'z', 'app');
  tar('plain.tar', '', 'plain.txt');
  tar('docs.tar.xz', 'J', 'xz.txt');
  tar('docs.tar.bz2', 'j', 'bz2.txt');
  tar('bundle/inner.tar.gz', 'z', 'plain.txt');
  writeFileSync(join(ctx, 'data.csv.gz'), gzipSync('a,b\n1,2\n'));
  return new Uint8Array(execFileSync('tar', ['-c', '-C', ctx, '.']));
}

describe('ADD of a local archive', () => {
  it('unpacks a tar archive, plain or gzip, xz or bzip2 compressed, into the destination; a compressed file that holds no tar, an archive inside an added folder, or one COPY names, is copied as it is', async () => {
    const dockerfile = [
      'FROM base',
      'ADD app.tar.gz plain.tar docs.tar.xz docs.tar.bz2 data.csv.gz /opt/',
      'ADD bundle /opt/bundle/',
      'COPY app.tar.gz /opt/copied/',
    ].join('\n');
    await Templates.build({ ...daemon.conn, name: 'unpacked', dockerfile, context: contextTar() });
    const sbx = await Sandbox.create({ ...daemon.conn, template: 'unpacked', startCommand: false });
    try {
      const listing = await sbx.commands.run(['sh', '-c', 'find /opt -type f | sort; ls -a / | grep paddock-add || true']);
      expect(listing.stdout.split('\n')).toEqual([
        '/opt/app/lib/util.py',
        '/opt/app/main.py',
        '/opt/bundle/inner.tar.gz',
        '/opt/bz2.txt',
        '/opt/copied/app.tar.gz',
        '/opt/data.csv.gz',
        '/opt/plain.txt',
        '/opt/xz.txt',
        '',
      ]);
      expect(await sbx.files.read('/opt/app/main.py')).toBe('print(1)\n');
      expect((await sbx.commands.run(['sh', '-c', 'zcat /opt/data.csv.gz'])).stdout).toBe('a,b\n1,2\n');
    } finally {
      await sbx.kill();
    }
  });

  it('reports its steps to onProgress, cached ones marked, as a progress bar would show them', async () => {
    const dockerfile = 'FROM base\nADD plain.tar /opt/\nENV DONE=1\n';
    const context = contextTar();
    const seen: TemplateProgress[][] = [[], []];
    for (const progress of seen) await Templates.build({ ...daemon.conn, name: 'progress', dockerfile, context, onProgress: (p) => progress.push(p) });
    const shown = (progress: TemplateProgress[] | undefined) => progress?.map((p) => `${p.index}/${p.total} ${p.text}${p.cached ? ' (cached)' : ''}`);
    expect(shown(seen[0])).toEqual(['1/4 FROM base', '2/4 ADD plain.tar /opt/', '3/4 ENV DONE', '4/4 saving template']);
    expect(shown(seen[1])).toEqual(['1/4 FROM base', '2/4 ADD plain.tar /opt/ (cached)', '3/4 ENV DONE', '4/4 saving template']);
  });
});
