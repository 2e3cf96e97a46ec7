// Re-exported from one place so the bundle (bundle.mjs) and the commands agree on it.
export { Command, CommanderError, Option } from 'commander';
