#!/usr/bin/env node
import { buildProgram } from './program/build-program.js';
import { runCli } from './program/run-cli.js';

await runCli(buildProgram(), process.argv);
