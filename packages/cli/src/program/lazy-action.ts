type Action = (...args: never[]) => Promise<void>;

/**
 * Defers loading a command's implementation (and the SDK behind it) until the
 * command runs, so help, usage errors and the other commands start faster.
 */
export function lazyAction(load: () => Promise<Action>): (...args: unknown[]) => Promise<void> {
  return async (...args) => (await load())(...(args as never[]));
}
