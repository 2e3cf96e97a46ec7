// Kept apart from the token schemas so that clients (the CLI) can use the
// short names without loading zod.

/**
 * Short names for the actions a task usually needs, each standing for the
 * API actions (as the Cedar schema names them) that make it up: `exec` is of
 * little use without reading its output, and none of these without seeing
 * the sandbox. Any other action is named as Cedar names it (sandbox.create).
 */
export const scopeActionGroups: Record<string, readonly string[]> = {
  exec: [
    'sandbox.get',
    'sandbox.exec',
    'sandbox.process.list',
    'sandbox.process.get',
    'sandbox.process.output',
    'sandbox.process.signal',
    'sandbox.process.stdin',
  ],
  code: ['sandbox.get', 'code.run', 'sandbox.code.context'],
  'files.read': ['sandbox.get', 'sandbox.file.read'],
  'files.write': ['sandbox.get', 'sandbox.file.write'],
  desktop: ['sandbox.get', 'desktop.screenshot', 'desktop.input', 'browser.cdp', 'sandbox.port.open'],
};

/** The API actions a scope's list names, short names expanded, each once, in order. */
export function expandScopeActions(actions: readonly string[]): string[] {
  return [...new Set(actions.flatMap((a) => scopeActionGroups[a] ?? [a]))];
}

/** The other way, for people to read: each short name whose actions are all there, then the actions no short name covers. */
export function collapseScopeActions(actions: readonly string[]): string[] {
  const have = new Set(actions);
  const groups = Object.entries(scopeActionGroups).filter(([, members]) => members.every((a) => have.has(a)));
  const covered = new Set(groups.flatMap(([, members]) => members));
  return [...groups.map(([name]) => name), ...actions.filter((a) => !covered.has(a))];
}
