export type { SandboxSessionOptions as PaddockToolsOptions } from '../toolkit/sandbox-session.js';
export { type PaddockLangChainToolkit, paddockTools } from './paddock-tools.js';
