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
  return native.feedGeneration();
}
