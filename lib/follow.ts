// Sockets that follow changes: a pinned connection learns when its interface goes down, its
// source address is removed, or no route leaves through its interface any more. One shared,
// unref'd watcher serves every socket, and only while some socket is being followed.
import type { Socket } from 'node:net';

import { invalidArgValue, systemError, type SystemError } from './errors';
import { routeTo } from './route';
import { RouteWatcher, type ChangeEvent } from './watch';

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
  error: SystemError;
  event: ChangeEvent;
}

interface Followed {
  socket: Socket;
  mode: RouteChangeMode;
  ifindex: number;
  interface: string;
  source: string;
  destination: string;
}

const followed = new Set<Followed>();
let watcher: RouteWatcher | undefined;

function ensureWatcher(): void {
  if (watcher !== undefined) return;
  watcher = new RouteWatcher();
  watcher.on('change', onChange);
}

function stopWatcherIfIdle(): void {
  if (followed.size === 0 && watcher !== undefined) {
    watcher.close();
    watcher = undefined;
  }
}

function affected(event: ChangeEvent, f: Followed): RouteChange | undefined {
  if (event.kind === 'link' && event.ifindex === f.ifindex) {
    const down = event.action === 'delete' || !event.flags.includes('up') || !event.flags.includes('running');
    if (!down) return undefined;
    const error = systemError('ENETDOWN', 'routebind', `${f.interface} went ${event.action === 'delete' ? 'away' : 'down'} under a connection from ${f.source}`, {
      interface: f.interface, address: f.source, destination: f.destination,
    });
    return { code: 'ENETDOWN', error, event };
  }
  if (event.kind === 'address' && event.action === 'delete' && event.address.split('%')[0] === f.source) {
    const error = systemError('EADDRNOTAVAIL', 'routebind', `${f.source} was removed from ${f.interface}`, {
      interface: f.interface, address: f.source, destination: f.destination,
    });
    return { code: 'EADDRNOTAVAIL', error, event };
  }
  if (event.kind === 'route' && event.action === 'delete' && (event.ifindex === f.ifindex || event.nexthops?.some((h) => h.ifindex === f.ifindex))) {
    try {
      routeTo(f.destination, { interface: f.ifindex });
    } catch (error) {
      const e = error as SystemError;
      if (e.code === 'ENETUNREACH' || e.code === 'EHOSTUNREACH') {
        const lost = systemError('ENETUNREACH', 'routebind', `no route to ${f.destination} leaves through ${f.interface} any more`, {
          interface: f.interface, address: f.source, destination: f.destination,
        });
        return { code: 'ENETUNREACH', error: lost, event };
      }
    }
  }
  return undefined;
}

// One change in the kernel arrives as several notifications (removing an address also withdraws
// its routes, in whichever order the kernel sends them). They come in one batch from the change
// feed, so causes are gathered per socket and settled once the batch is through, the most
// specific first: the interface went down, else the source went, else the route.
const PRIORITY: Record<RouteChange['code'], number> = { ENETDOWN: 0, EADDRNOTAVAIL: 1, ENETUNREACH: 2 };
const pending = new Map<Followed, RouteChange[]>();

function onChange(event: ChangeEvent): void {
  for (const f of followed) {
    const change = affected(event, f);
    if (change === undefined) continue;
    const list = pending.get(f);
    if (list === undefined) {
      if (pending.size === 0) queueMicrotask(settle);
      pending.set(f, [change]);
    } else if (!list.some((c) => c.code === change.code)) {
      list.push(change);
    }
  }
}

function settle(): void {
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
  const entry: Followed = { socket, mode, ...path };
  ensureWatcher();
  followed.add(entry);
  socket.once('close', () => {
    followed.delete(entry);
    stopWatcherIfIdle();
  });
}
