// One change counter for every cache routebind keeps. The addon reads one change feed per
// environment, whoever asks first (this check, a link lookup, a watcher's poll), and counts
// what it read in a generation number that every cache compares against.
//
// On Linux and macOS the check is one non-blocking recv() on the feed, and a change that has
// taken effect is always seen: the kernel queues its notification before the call that made the
// change returns. Windows gives no such guarantee: NotifyRouteChange2, NotifyUnicastIpAddressChange
// and NotifyIpInterfaceChange call back on a thread-pool thread some time after the change, and
// the generation moves only once the callback has run; in between, a cached answer is stale and
// nothing can tell. So on Windows the feed is not trusted until the program opts in to the
// route cache (configureRouteCache({ maxEntries }) > 0, accepting answers up to one notification
// delay old): until then every read outside a decision is a generation of its own, and every
// cache (routes, the interface index, interface settings) lives for one decision only.
import { native } from './binding';
import { HOST } from './platform';

let trusted = HOST !== 'win32';
// Generations made up while the feed is not trusted: negative, never one the feed gives.
let untrusted = 0;

function read(): number {
  return trusted ? native().feedGeneration() : --untrusted;
}

/** Whether caches may follow the change feed (always, but on Windows only once opted in). */
export function trustFeed(trust: boolean): void {
  trusted = trust || HOST !== 'win32';
}

/**
 * The current generation: it moves on whenever the kernel has announced a route, address,
 * link, rule, nexthop or per-interface setting (netconf) change since the last call, or
 * dropped announcements. Costs one non-blocking recv() when nothing was announced.
 * A change that has taken effect in the kernel is always seen here: the kernel queues the
 * notification before the call that made the change returns (Linux, macOS; see above for Windows).
 */
export function currentGeneration(): number {
  return held !== undefined ? held : read();
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
  if (previous === undefined) held = read();
  return previous;
}

export function releaseGeneration(previous: number | undefined): void {
  held = previous;
}
