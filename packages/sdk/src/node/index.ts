// Node-only helpers (they write to this machine's disk): apart from the main
// entry point, which runs wherever fetch does.
export { downloadDir } from './download-dir.js';
export { type ExtractOptions, extractArchive, type RefusedEntry } from './extract-archive.js';
