type Step = { name: string; run: () => Promise<void> | void };

/**
 * Everything the bench creates registers its own undo here, newest first.
 * run() executes them all (each failure is reported, none stops the rest) and
 * is safe to call twice: on success, on an error, and on SIGINT/SIGTERM.
 */
export class Cleanup {
  private readonly steps: Step[] = [];
  private running: Promise<void> | null = null;

  add(name: string, run: Step['run']): void {
    this.steps.push({ name, run });
  }

  run(): Promise<void> {
    if (!this.running) {
      this.running = (async () => {
        while (this.steps.length > 0) {
          const step = this.steps.pop() as Step;
          try {
            await withTimeout(Promise.resolve().then(step.run), 60_000, step.name);
          } catch (err) {
            console.error(`cleanup: ${step.name} failed: ${(err as Error).message}`);
          }
        }
      })();
    }
    return this.running;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
    }),
  ]);
}
