import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../errors/paddock-error.js';
import { expandVariables, parseDockerfile } from './dockerfile.js';

describe('parseDockerfile', () => {
  it('parses stages and every supported instruction', () => {
    const file = parseDockerfile(
      [
        'ARG BASE=base',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a JavaScript template
        'FROM ${BASE} AS build',
        'ARG VERSION=1.0',
        'ENV A=1 B="two words"',
        'LABEL org.example.name="demo app" version=$VERSION',
        'WORKDIR /src',
        'COPY --chown=user:user a.txt b/ /dest/',
        'ADD https://example.com/x.tar.gz /opt/',
        'RUN make \\',
        '    # a comment inside a continuation',
        '    all',
        'SHELL ["/bin/bash", "-c"]',
        'RUN echo $A',
        'FROM scratch',
        'COPY --from=build /src/out /app',
        'USER 1000',
        'EXPOSE 8080 53/udp',
        'ENTRYPOINT ["/app/run"]',
        'CMD --serve',
      ].join('\n'),
    );
    expect(file.globalArgs).toEqual([{ name: 'BASE', value: 'base' }]);
    expect(file.stages.map((s) => [s.from, s.name, s.line])).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a JavaScript template
      ['${BASE}', 'build', 2],
      ['scratch', null, 14],
    ]);
    expect(file.stages[0]?.steps).toEqual([
      { kind: 'ARG', name: 'VERSION', value: '1.0', line: 3 },
      {
        kind: 'ENV',
        values: [
          ['A', '1'],
          ['B', 'two words'],
        ],
        line: 4,
      },
      {
        kind: 'LABEL',
        values: [
          ['org.example.name', 'demo app'],
          ['version', '$VERSION'],
        ],
        line: 5,
      },
      { kind: 'WORKDIR', path: '/src', line: 6 },
      { kind: 'COPY', sources: ['a.txt', 'b/'], dest: '/dest/', from: { kind: 'context' }, chown: 'user:user', line: 7 },
      { kind: 'ADD', sources: ['https://example.com/x.tar.gz'], dest: '/opt/', chown: undefined, line: 8 },
      { kind: 'RUN', argv: ['/bin/sh', '-c', 'make  all'], text: 'make  all', line: 9 },
      { kind: 'RUN', argv: ['/bin/bash', '-c', 'echo $A'], text: 'echo $A', line: 13 },
    ]);
    expect(file.stages[1]?.steps).toEqual([
      { kind: 'COPY', sources: ['/src/out'], dest: '/app', from: { kind: 'stage', stage: 0 }, chown: undefined, line: 15 },
      { kind: 'USER', user: '1000', line: 16 },
      { kind: 'EXPOSE', ports: ['8080', '53/udp'], line: 17 },
      { kind: 'ENTRYPOINT', argv: ['/app/run'], line: 18 },
      { kind: 'CMD', argv: ['/bin/sh', '-c', '--serve'], line: 19 },
    ]);
  });

  it('takes a Paddockfile without FROM as one stage on the request’s parent', () => {
    const file = parsePaddock('ENV X=1\nRUN true');
    expect(file.stages).toHaveLength(1);
    expect(file.stages[0]?.from).toBe('');
  });

  it('refuses what it cannot honour before anything runs, naming the line', () => {
    const cases: Array<[string, RegExp]> = [
      ['FROM base\nVOLUME /data', /^Dockerfile line 2: VOLUME is not supported/],
      ['FROM base\n\nHEALTHCHECK CMD true', /^Dockerfile line 3: HEALTHCHECK/],
      ['FROM base\nONBUILD RUN true', /line 2: ONBUILD/],
      ['FROM base\nRUN --mount=type=cache,target=/root/.cache pip install x', /line 2: RUN --mount is not supported/],
      ['FROM base\nCOPY --link a /b', /line 2: COPY --link is not supported/],
      ['FROM base\nCOPY --from=nowhere /a /b', /line 2: COPY --from=nowhere: not an earlier stage/],
      ['FROM base\nRUN <<EOF\necho\nEOF', /line 2: here-documents/],
      ['FROM base\nFROBNICATE x', /line 2: unknown instruction FROBNICATE/],
      ['RUN true\nFROM base', /line 2: FROM must come before the first step/],
      ['FROM base AS a\nFROM base AS a', /line 2: stage name a is used twice/],
      ['FROM --platform=linux/arm64 base', /line 1: FROM --platform is not supported/],
      ['FROM base\nEXPOSE http', /line 2: EXPOSE http/],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        parseDockerfile(text);
      } catch (err) {
        error = err;
      }
      expect(error, text).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).message, text).toMatch(message);
      expect((error as BadRequestError).code).toBe('invalid_dockerfile');
    }
  });
});

describe('expandVariables', () => {
  it('expands as Docker does', () => {
    const vars = { A: 'x', EMPTY: '' };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile syntax, not a JavaScript template
    expect(expandVariables('$A ${A}/b ${MISSING:-d} ${A:+alt} ${EMPTY:-e} \\$A', vars)).toBe('x x/b d alt e $A');
  });
});

function parsePaddock(text: string) {
  return parseDockerfile(text, 'Paddockfile');
}
