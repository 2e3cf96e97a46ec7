/**
 * Layer folders a pull or import is making a template of. Until it is saved
 * no template names them, so without a hold the removal of another template
 * sharing them, or `paddock gc`, would take them away under the pull.
 */
export class LayerHolds {
  private readonly counts = new Map<string, number>();

  /** Holds a layer folder (its rootfs); the function returned lets go, once. */
  hold(dir: string): () => void {
    this.counts.set(dir, (this.counts.get(dir) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(dir) ?? 1) - 1;
      if (left > 0) this.counts.set(dir, left);
      else this.counts.delete(dir);
    };
  }

  held(dir: string): boolean {
    return this.counts.has(dir);
  }
}
