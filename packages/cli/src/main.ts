#!/usr/bin/env node
import { buildProgram } from './program/build-program.js';
import { runCli } from './program/run-cli.js';

await runCli(await buildProgram(process.argv), process.argv);
