/**
 * The templates the daemon carries and builds the first time a sandbox asks
 * for one (from `base` and Debian's packages: minutes). A client that knows
 * the names can ask for the build first, with its progress on screen.
 */
export const builtInTemplateNames = ['code-interpreter', 'desktop'] as const;

export function isBuiltInTemplate(name: string): boolean {
  return (builtInTemplateNames as readonly string[]).includes(name);
}
