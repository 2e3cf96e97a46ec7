/** Commander reducer for repeatable options (-e A=1 -e B=2). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
