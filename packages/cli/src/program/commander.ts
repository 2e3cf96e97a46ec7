import { createRequire } from 'node:module';
import type * as Commander from 'commander';

// Commander is CommonJS: require() loads it ~6 ms faster than an ESM import,
// which goes through the CommonJS export lexer. Start-up time is a feature here.
const commander = createRequire(import.meta.url)('commander') as typeof Commander;

export const { Command, CommanderError, Option } = commander;
