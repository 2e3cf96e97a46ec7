import { LeanSpawner } from '@paddock/engine';

let shared: LeanSpawner | undefined;

/**
 * The fast tier's spawner, one per test process: a test worker holds hundreds
 * of MB (every file's daemon, sources and heap), and each fork from it copies
 * that many page tables (~15–25 ms of CPU a command here); from the spawner's
 * small helper it is ~3 ms. Its helper keeps no worker alive.
 */
export function processSpawner(): LeanSpawner {
  shared ??= new LeanSpawner();
  return shared;
}
