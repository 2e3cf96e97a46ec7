import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../errors/paddock-error.js';
import { parsePaddockfile } from './paddockfile.js';

describe('parsePaddockfile', () => {
  it('parses every supported instruction', () => {
    const file = parsePaddockfile(
      [
        '# a comment',
        'FROM base',
        'ENV A=1 B="two words"',
        'ENV C three',
        'WORKDIR /srv',
        'COPY a.txt b/ /dest/',
        'RUN apt-get update && \\',
        '    apt-get install -y jq',
        'RUN ["python3", "-c", "print(1)"]',
        'USER user',
      ].join('\n'),
    );
    expect(file.from).toBe('base');
    expect(file.steps).toEqual([
      { kind: 'ENV', values: { A: '1', B: 'two words' }, line: 3 },
      { kind: 'ENV', values: { C: 'three' }, line: 4 },
      { kind: 'WORKDIR', path: '/srv', line: 5 },
      { kind: 'COPY', sources: ['a.txt', 'b/'], dest: '/dest/', line: 6 },
      { kind: 'RUN', argv: ['/bin/sh', '-c', 'apt-get update &&  apt-get install -y jq'], text: 'apt-get update &&  apt-get install -y jq', line: 7 },
      { kind: 'RUN', argv: ['python3', '-c', 'print(1)'], text: '["python3", "-c", "print(1)"]', line: 9 },
      { kind: 'USER', user: 'user', line: 10 },
    ]);
  });

  it('names the line of an error', () => {
    expect(() => parsePaddockfile('FROM base\nEXPOSE 80')).toThrow(/line 2: unsupported instruction EXPOSE/);
    expect(() => parsePaddockfile('RUN true\nFROM base')).toThrow(/line 2: FROM must come first/);
    expect(() => parsePaddockfile('COPY onlyone')).toThrow(BadRequestError);
    expect(() => parsePaddockfile('RUN ["unterminated"')).toThrow(/exec form/);
  });
});
