// One change counter for every cache routebind keeps. The addon's change feed is drained by
// whichever cache asks first, so the answer is shared through a generation number instead.
import { native } from './binding';

let generation = 0;

/**
 * The current generation: it moves on whenever the kernel has announced a route, address or
 * link change since the last call (or dropped announcements). Costs one non-blocking recv().
 * A change that has taken effect in the kernel is always seen here: the kernel queues the
 * notification before the call that made the change returns.
 */
export function currentGeneration(): number {
  if (native.changesPending()) generation++;
  return generation;
}
