// The parts of core a client needs at run time, without zod: loading the
// schemas costs ~50 ms, which a CLI call must not pay. Types come from the
// main entry point as type-only imports, which cost nothing.

export * from './approvals/approval-headers.js';
export * from './audit/canonical-json.js';
export * from './code/cell-for-model.js';
export * from './errors/error-codes.js';
export * from './errors/paddock-error.js';
export * from './files/take-head.js';
export * from './gateway/gateway-tool-names.js';
export * from './limits/bounds.js';
export * from './limits/format-units.js';
export * from './limits/units.js';
export * from './progress/progress-printer.js';
export * from './sandboxes/sandbox-end.js';
export * from './templates/built-in-templates.js';
export * from './tenants/scope-actions.js';
export * from './text/json-depth.js';
export * from './text/keep-ends.js';
export * from './text/printable.js';
export { paddockVersion } from './version.js';
