export * from './errors/paddock-error.js';
export * from './limits/units.js';
export * from './limits/limits-schema.js';
export * from './sandboxes/sandbox-schema.js';
export * from './commands/command-schema.js';
export * from './files/file-schema.js';
export * from './templates/template-schema.js';
export { paddockVersion } from './version.js';
