export type { SandboxSessionOptions as PaddockToolsOptions } from '../toolkit/sandbox-session.js';
export { type PaddockAiToolkit, type PaddockAiTools, type PaddockToolResult, paddockTools } from './paddock-tools.js';
