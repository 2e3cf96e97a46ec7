import { exitCodes } from './errors/exit-code-for.js';
import { buildProgram } from './program/build-program.js';
import { runCli } from './program/run-cli.js';

// The CLI always ends through runCli's process.exit: an event loop that empties first means a command never settled
// (top-level await made Node end such a run with 13; this entry is also bundled as a script, which cannot await at top level).
process.once('beforeExit', () => {
  process.stderr.write('paddock: the command stopped without finishing\n');
  process.exitCode = exitCodes.failure;
});
void buildProgram(process.argv).then((program) => runCli(program, process.argv));
