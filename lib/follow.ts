// Sockets that follow changes: a pinned connection learns when its interface goes down, its
// source address is removed, or no route leaves through its interface any more. One shared,
// unref'd watcher serves every socket, and only while some socket is being followed. Followed
// sockets are indexed by interface and by source, so an event costs a lookup, not a scan.
import type { Socket } from 'node:net';

import { invalidArgValue, systemError, type SystemError } from './errors';
import type { NetworkInterface } from './interfaces';
import { routeTo } from './route';
import { RouteWatcher, type ChangeEvent, type ResyncEvent, type RouteChangeEvent } from './watch';

/** What a followed socket does when its path breaks: 'keep' emits 'routeChange', 'destroy' also destroys it. */
export type RouteChangeMode = 'keep' | 'destroy';

/** The `onRouteChange` option, checked; undefined when not given. */
export function validateRouteChangeMode(name: string, value: unknown): RouteChangeMode | undefined {
  if (value !== undefined && value !== 'keep' && value !== 'destroy') throw invalidArgValue(name, value, "must be 'keep' or 'destroy'");
  return value;
}

/** What a followed socket's 'routeChange' event carries. */
export interface RouteChange {
  /** ENETDOWN (interface down or gone), EADDRNOTAVAIL (source removed), ENETUNREACH (no route left through the interface). */
  code: 'ENETDOWN' | 'EADDRNOTAVAIL' | 'ENETUNREACH';
  /** The same condition as an Error (code, errno, syscall), as a socket destroyed with 'destroy' gets it. */
  error: SystemError;
  /** The notification that broke the path; absent when a re-check after lost notifications ('resync') found it. */
  event?: ChangeEvent;
}

/** The 'routeChange' event of a socket routebind follows, typed for its listeners. */
export interface RouteChangeEvents {
  /** The socket's path broke: its interface went down, its source was removed or no route leaves through its interface. */
  on(event: 'routeChange', listener: (change: RouteChange) => void): this;
  /** As on('routeChange'). */
  once(event: 'routeChange', listener: (change: RouteChange) => void): this;
  /** As on('routeChange'). */
  addListener(event: 'routeChange', listener: (change: RouteChange) => void): this;
  /** As on('routeChange'). */
  prependListener(event: 'routeChange', listener: (change: RouteChange) => void): this;
  /** As on('routeChange'). */
  prependOnceListener(event: 'routeChange', listener: (change: RouteChange) => void): this;
  /** Removes a 'routeChange' listener. */
  off(event: 'routeChange', listener: (change: RouteChange) => void): this;
  /** Removes a 'routeChange' listener. */
  removeListener(event: 'routeChange', listener: (change: RouteChange) => void): this;
  /** Emits 'routeChange' (routebind does when the path breaks). */
  emit(event: 'routeChange', change: RouteChange): boolean;
}

interface Followed {
  socket: Socket;
  mode: RouteChangeMode;
  ifindex: number;
  interface: string;
  /** As given; `key` holds the canonical form that events are matched against. */
  source: string;
  sourceKey: string;
  destination: string;
  family: 4 | 6;
  /** The destination as a number, for "does this changed prefix cover it". */
  destinationBits: bigint;
}

/**
 * One spelling per address, so 'FD00:B:0::2', 'fd00:b::2' and 'fd00:b::2%ethB' compare equal:
 * the WHATWG URL parser writes IPv6 hosts in RFC 5952 form.
 */
export function canonicalAddress(text: string): string {
  const bare = text.split('%')[0];
  if (!bare.includes(':')) return bare;
  try {
    return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  } catch {
    return bare.toLowerCase();
  }
}

function addressBits(text: string): bigint {
  const bare = canonicalAddress(text);
  if (!bare.includes(':')) return bare.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part) & 255), 0n);
  const [head, tail = ''] = bare.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(head);
  const right = groups(tail);
  const all = bare.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16) || 0), 0n);
}

/** `family/length/network bits`: equal for a prefix and every address it covers, masked to it. */
function prefixKey(family: 4 | 6, bits: bigint, length: number): string {
  return `${family}/${length}/${bits >> BigInt((family === 4 ? 32 : 128) - length)}`;
}

const byIfindex = new Map<number, Set<Followed>>();
const bySource = new Map<string, Set<Followed>>();
const byDestination = new Map<string, Set<Followed>>();
let count = 0;
let watcher: RouteWatcher | undefined;

function add<K>(index: Map<K, Set<Followed>>, key: K, f: Followed): void {
  let set = index.get(key);
  if (set === undefined) index.set(key, (set = new Set()));
  set.add(f);
}

function remove<K>(index: Map<K, Set<Followed>>, key: K, f: Followed): void {
  const set = index.get(key);
  if (set === undefined) return;
  set.delete(f);
  if (set.size === 0) index.delete(key);
}

function ensureWatcher(): void {
  if (watcher !== undefined) return;
  watcher = new RouteWatcher();
  watcher.on('change', onChange);
  watcher.on('resync', onResync);
  // The shared watcher must never take the process down; a socket keeps working unfollowed.
  watcher.on('error', () => {
    watcher = undefined;
  });
}

function stopWatcherIfIdle(): void {
  if (count === 0 && watcher !== undefined) {
    watcher.close();
    watcher = undefined;
  }
}

function linkDown(f: Followed, gone: boolean, event?: ChangeEvent): RouteChange {
  const error = systemError('ENETDOWN', 'routebind', `${f.interface} went ${gone ? 'away' : 'down'} under a connection from ${f.source}`, {
    interface: f.interface, address: f.source, destination: f.destination,
  });
  return { code: 'ENETDOWN', error, ...(event !== undefined ? { event } : {}) };
}

function sourceGone(f: Followed, event?: ChangeEvent): RouteChange {
  const error = systemError('EADDRNOTAVAIL', 'routebind', `${f.source} was removed from ${f.interface}`, {
    interface: f.interface, address: f.source, destination: f.destination,
  });
  return { code: 'EADDRNOTAVAIL', error, ...(event !== undefined ? { event } : {}) };
}

/** Whether a route still leaves through the socket's interface; a RouteChange when none does. */
function routeLost(f: Followed, event?: ChangeEvent): RouteChange | undefined {
  try {
    routeTo(f.destination, { interface: f.ifindex });
    return undefined;
  } catch (error) {
    const e = error as SystemError;
    if (e.code !== 'ENETUNREACH' && e.code !== 'EHOSTUNREACH') return undefined;
    const lost = systemError('ENETUNREACH', 'routebind', `no route to ${f.destination} leaves through ${f.interface} any more`, {
      interface: f.interface, address: f.source, destination: f.destination,
    });
    return { code: 'ENETUNREACH', error: lost, ...(event !== undefined ? { event } : {}) };
  }
}

// One change in the kernel arrives as several notifications (removing an address also withdraws
// its routes, in whichever order the kernel sends them). They come in one batch from the change
// feed, so causes are gathered per socket and settled once the batch is through, the most
// specific first: the interface went down, else the source went, else the route. Route checks
// ask the kernel, so they wait for the end of the batch too and run once per socket.
const PRIORITY: Record<RouteChange['code'], number> = { ENETDOWN: 0, EADDRNOTAVAIL: 1, ENETUNREACH: 2 };
const pending = new Map<Followed, RouteChange[]>();
const routeChecks = new Map<Followed, ChangeEvent | undefined>();
// Prefixes of replaced routes in this batch, and which prefix lengths occur per family.
const replaced = new Map<string, RouteChangeEvent>();
const replacedLengths: Record<4 | 6, Set<number>> = { 4: new Set(), 6: new Set() };
let settling = false;

function scheduleSettle(): void {
  if (settling) return;
  settling = true;
  queueMicrotask(settle);
}

function note(f: Followed, change: RouteChange): void {
  const list = pending.get(f);
  if (list === undefined) pending.set(f, [change]);
  else if (!list.some((c) => c.code === change.code)) list.push(change);
  scheduleSettle();
}

function checkRoute(f: Followed, event: ChangeEvent | undefined): void {
  if (!routeChecks.has(f)) routeChecks.set(f, event);
  scheduleSettle();
}

function onChange(event: ChangeEvent): void {
  if (event.kind === 'link') {
    const down = event.action === 'delete' || !event.flags.includes('up') || !event.flags.includes('running');
    if (!down) return;
    for (const f of byIfindex.get(event.ifindex) ?? []) note(f, linkDown(f, event.action === 'delete', event));
  } else if (event.kind === 'address') {
    if (event.action !== 'delete') return;
    for (const f of bySource.get(canonicalAddress(event.address)) ?? []) note(f, sourceGone(f, event));
  } else if (event.action === 'delete') {
    const through = new Set<number>();
    if (event.ifindex !== undefined) through.add(event.ifindex);
    for (const hop of event.nexthops ?? []) through.add(hop.ifindex);
    for (const index of through) for (const f of byIfindex.get(index) ?? []) checkRoute(f, event);
  } else if (event.action === 'change') {
    // A replaced route names its new interface only: whatever it covers may have left ours.
    replaced.set(prefixKey(event.family, addressBits(event.destination.split('/')[0]), event.prefixLength), event);
    replacedLengths[event.family].add(event.prefixLength);
    scheduleSettle();
  }
}

// Notifications were lost: check every followed socket against the state as it is now.
function onResync(state: ResyncEvent): void {
  const links = new Map<number, NetworkInterface>(state.interfaces.map((i) => [i.ifindex, i]));
  const addresses = new Set<string>();
  for (const i of state.interfaces) for (const a of i.addresses) addresses.add(canonicalAddress(a.address));
  for (const set of byIfindex.values()) {
    for (const f of set) {
      const link = links.get(f.ifindex);
      if (link === undefined || !link.flags.includes('up') || !link.flags.includes('running')) note(f, linkDown(f, link === undefined));
      else if (!addresses.has(f.sourceKey)) note(f, sourceGone(f));
      else checkRoute(f, undefined);
    }
  }
}

function settle(): void {
  settling = false;
  if (replaced.size > 0) {
    // Per followed destination, one set lookup per prefix length seen: the cost does not grow
    // with the number of replaced routes.
    for (const group of byDestination.values()) {
      const [first] = group;
      for (const length of replacedLengths[first.family]) {
        const cause = replaced.get(prefixKey(first.family, first.destinationBits, length));
        if (cause === undefined) continue;
        for (const f of group) checkRoute(f, cause);
        break;
      }
    }
    replaced.clear();
    replacedLengths[4].clear();
    replacedLengths[6].clear();
  }
  const checks = [...routeChecks];
  routeChecks.clear();
  for (const [f, event] of checks) {
    if (f.socket.destroyed || pending.has(f)) continue; // a more specific cause is already known
    const lost = routeLost(f, event);
    if (lost !== undefined) note(f, lost);
  }
  const batch = [...pending];
  pending.clear();
  for (const [f, changes] of batch) {
    if (f.socket.destroyed) continue;
    changes.sort((a, b) => PRIORITY[a.code] - PRIORITY[b.code]);
    for (const change of changes) f.socket.emit('routeChange', change);
    if (f.mode === 'destroy') f.socket.destroy(changes[0].error);
  }
}

/**
 * Follows a connected, pinned socket: emits 'routeChange' on it when its path breaks, and with
 * mode 'destroy' destroys it with that error (instead of hanging until TCP gives up).
 */
export function followSocket(socket: Socket, mode: RouteChangeMode, path: { ifindex: number; interface: string; source: string; destination: string }): void {
  if (socket.destroyed) return;
  const family = path.destination.includes(':') ? 6 : 4;
  const entry: Followed = {
    socket, mode, ...path, family, sourceKey: canonicalAddress(path.source), destinationBits: addressBits(path.destination),
  };
  ensureWatcher();
  add(byIfindex, entry.ifindex, entry);
  add(bySource, entry.sourceKey, entry);
  add(byDestination, canonicalAddress(entry.destination), entry);
  count++;
  socket.once('close', () => {
    remove(byIfindex, entry.ifindex, entry);
    remove(bySource, entry.sourceKey, entry);
    remove(byDestination, canonicalAddress(entry.destination), entry);
    count--;
    stopWatcherIfIdle();
  });
}
