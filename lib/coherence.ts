// One change counter for every cache routebind keeps. The addon reads one change feed per
// environment, whoever asks first (this check, a link lookup, a watcher's poll), and counts
// what it read in a generation number that every cache compares against.
import { native } from './binding';

/**
 * The current generation: it moves on whenever the kernel has announced a route, address,
 * link, rule, nexthop or per-interface setting (netconf) change since the last call, or
 * dropped announcements. Costs one non-blocking recv() when nothing was announced.
 * A change that has taken effect in the kernel is always seen here: the kernel queues the
 * notification before the call that made the change returns.
 */
export function currentGeneration(): number {
  return held !== undefined ? held : native().feedGeneration();
}

// One decision (decide.ts) reads the feed once: its route lookups and interface lookups all
// answer for the generation read when it began. A change announced while it runs is concurrent
// with the call and is seen by the next one, as it would be had it come a moment later.
let held: number | undefined;

/**
 * Reads the generation now (unless a hold is already in force) and makes currentGeneration()
 * answer it until releaseGeneration(previous); returns the previous hold, for nesting.
 */
export function holdGeneration(): number | undefined {
  const previous = held;
  if (previous === undefined) held = native().feedGeneration();
  return previous;
}

export function releaseGeneration(previous: number | undefined): void {
  held = previous;
}
