import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/security-probes.md is the project's list of attacks the suite holds
// against. It is only worth something while it tells the truth, so this test
// holds it to the tests: every probe it lists is named by a test in the file
// it points to, and every probe a test names is listed.

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const cataloguePath = join(repoRoot, 'docs/security-probes.md');
const probeId = /^[A-Z]\d{1,2}$/;

interface CatalogueLine {
  id: string;
  file: string;
}

function readCatalogue(): CatalogueLine[] {
  const lines: CatalogueLine[] = [];
  for (const row of readFileSync(cataloguePath, 'utf8').split('\n')) {
    const cells = row.split('|').map((cell) => cell.trim());
    const id = cells[1] ?? '';
    if (!probeId.test(id)) continue;
    const file = /`([^`]+\.test\.ts)`/.exec(cells[3] ?? '')?.[1];
    lines.push({ id, file: file ?? '' });
  }
  return lines;
}

function testFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...testFiles(path));
    else if (entry.name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

/** Probe IDs that stand in the titles of tests and describes ("A7: …", "… (D9)", "H2–H7: …" for a run of them). */
function idsNamedInTitles(source: string): string[] {
  const ids: string[] = [];
  const title = /\b(?:it|describe|test)(?:\.each\([^)]*\))?\(\s*(['"`])((?:(?!\1).)*)\1/g;
  for (const match of source.matchAll(title)) {
    for (const named of (match[2] ?? '').matchAll(/\b([A-Z])(\d{1,2})(?:[–-]\1(\d{1,2}))?\b/g)) {
      const [, section, first, last] = named as unknown as [string, string, string, string | undefined];
      for (let n = Number(first); n <= Number(last ?? first); n++) ids.push(`${section}${n}`);
    }
  }
  return ids;
}

describe('the probe catalogue (docs/security-probes.md)', () => {
  const catalogue = readCatalogue();

  it('lists each probe once, each with the test file that holds it', () => {
    expect(catalogue.length).toBeGreaterThan(50);
    const seen = new Set<string>();
    for (const { id, file } of catalogue) {
      expect(seen.has(id), `${id} is listed twice`).toBe(false);
      seen.add(id);
      expect(file, `${id} names no test file`).not.toBe('');
      expect(existsSync(join(repoRoot, file)), `${id}: ${file} does not exist`).toBe(true);
    }
  });

  it('points at files whose tests name the probe', () => {
    const missing = catalogue
      .filter(({ file }) => file && existsSync(join(repoRoot, file)))
      .filter(({ id, file }) => !idsNamedInTitles(readFileSync(join(repoRoot, file), 'utf8')).includes(id))
      .map(({ id, file }) => `${id} (${file})`);
    expect(missing, 'probes no test in their file names').toEqual([]);
  });

  it('lists every probe a test names', () => {
    const listed = new Set(catalogue.map(({ id }) => id));
    const unlisted: string[] = [];
    for (const file of testFiles(join(repoRoot, 'packages'))) {
      for (const id of new Set(idsNamedInTitles(readFileSync(file, 'utf8')))) {
        if (!listed.has(id)) unlisted.push(`${id} (${relative(repoRoot, file)})`);
      }
    }
    expect(unlisted, 'probes named in tests but missing from the catalogue').toEqual([]);
  });
});
