import { buildProgram } from './program/build-program.js';
import { runCli } from './program/run-cli.js';

// No top-level await: this entry is also bundled as a CommonJS script (see bundle-cli.mjs), which cannot have one.
void buildProgram(process.argv).then((program) => runCli(program, process.argv));
