/**
 * How deeply a JSON value nests (a scalar is 0), counted without recursion
 * and stopping past `limit`: a value from an untrusted peer may nest deeper
 * than the stack of anything that walks it recursively.
 */
export function jsonDepth(value: unknown, limit = 1000): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (item === null || typeof item !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, level]);
  }
  return deepest;
}
