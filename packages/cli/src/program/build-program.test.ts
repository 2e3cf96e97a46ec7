import { describe, expect, it } from 'vitest';
import { buildProgram, commandGroups, commandNamed } from './build-program.js';
import { Command } from './commander.js';

const argv = (...args: string[]) => ['node', 'paddock', ...args];
const names = (program: Command) => program.commands.map((c) => c.name());

describe('the command table', () => {
  it('names exactly the commands each group registers, each in one group', async () => {
    for (const group of commandGroups) {
      const program = new Command('paddock').enablePositionalOptions();
      (await group.load())(program);
      expect(names(program)).toEqual(group.names);
    }
    const all = commandGroups.flatMap((g) => g.names);
    expect(new Set(all).size).toBe(all.length);
  });

  it('finds the command a call names past the global options, and none when the call needs the whole table', () => {
    expect(commandNamed(argv('run', '--', 'true'))).toBe('run');
    expect(commandNamed(argv('--url', 'http://h:1', '--token', 't', 'template', 'ls'))).toBe('template');
    expect(commandNamed(argv('--url=http://h:1', '--ca-file', 'ca.pem', 'exec', 'sb-1', '--', 'ls'))).toBe('exec');
    expect(commandNamed(argv('--version'))).toBe('version');
    for (const whole of [argv(), argv('--help'), argv('-h', 'run'), argv('--bogus', 'run'), argv('--url')]) expect(commandNamed(whole)).toBeUndefined();
  });

  it('registers only the named command’s group for a call, and every group for help or an unknown command', async () => {
    expect(names(await buildProgram(argv('exec', 'sb-1', '--', 'ls')))).toEqual(['exec', 'shell', 'takeover', 'handback', 'ps', 'logs', 'wait']);
    const every = commandGroups.flatMap((g) => g.names);
    expect(names(await buildProgram(argv('--help')))).toEqual(every);
    // Commander's "did you mean" needs every name.
    expect(names(await buildProgram(argv('rnu')))).toEqual(every);
  });
});
