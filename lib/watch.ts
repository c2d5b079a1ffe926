// Route, address and link change events from the kernel (rtnetlink multicast groups), delivered
// on the event loop. Every watcher of an environment shares the addon's one change feed, each
// with its own groups. A watcher does not keep the process alive unless asked to (ref()).
import { EventEmitter } from 'node:events';

import { ChangeGroup, native, type NativeAddress, type NativeChangeEvent, type NativeChangeWatcher, type NativeLink, type NativeRoute } from './binding';
import { invalidArgValue } from './errors';
import { interfaces, toInterface, toInterfaceAddress, type InterfaceAddress, type NetworkInterface } from './interfaces';
import { requireBackend } from './platform';
import { routes, toEntry, type RouteEntry } from './route';
import { rejectUnknownKeys, validateBoolean, validateObject } from './validate';

/** What watch() reports: every kind of change, for both families, unless turned off here. */
export interface WatchOptions {
  /** Report route changes (default true). */
  routes?: boolean;
  /** Report address changes (default true). */
  addresses?: boolean;
  /** Report link changes: up/down, renames, new and removed interfaces (default true). */
  links?: boolean;
  /** Only IPv4 (4) or IPv6 (6) routes and addresses; both by default. */
  family?: 4 | 6;
}

/** What happened to the route, address or link: 'add', 'delete' or 'change' (RTM_NEW* for an existing one). */
export type ChangeAction = 'add' | 'delete' | 'change';

/** A route was added, changed or removed: the entry as routes() lists it. */
export type RouteChangeEvent = {
  /** Always 'route'. */
  kind: 'route';
  /** What happened to the route. */
  action: ChangeAction;
} & RouteEntry;

/** An address was added, changed or removed: the address as interfaces() lists it. */
export type AddressChangeEvent = {
  /** Always 'address'. */
  kind: 'address';
  /** What happened to the address. */
  action: ChangeAction;
  /** The interface that has (or had) the address; absent when it is already gone. */
  interface?: string;
  /** The index of that interface. */
  ifindex: number;
} & InterfaceAddress;

/** A link appeared, changed (up/down, rename, MTU …) or disappeared: as interfaces() lists it, without addresses. */
export type LinkChangeEvent = {
  /** Always 'link'. */
  kind: 'link';
  /** What happened to the link. */
  action: ChangeAction;
} & Omit<NetworkInterface, 'addresses'>;

/** What 'change' carries: `kind` says which of the three it is. */
export type ChangeEvent = RouteChangeEvent | AddressChangeEvent | LinkChangeEvent;

/** What 'resync' carries: the whole state, dumped again after the kernel dropped notifications. */
export interface ResyncEvent {
  /** Every route, as routes() lists them (of the watched family). */
  routes: RouteEntry[];
  /** Every interface with its addresses, as interfaces() lists them. */
  interfaces: NetworkInterface[];
}

const RTM_F_CLONED = 0x200;

export declare interface RouteWatcher {
  /** A route, address or link was added, changed or removed. */
  on(event: 'change', listener: (event: ChangeEvent) => void): this;
  /** The kernel dropped notifications: the whole state, dumped again. */
  on(event: 'resync', listener: (state: ResyncEvent) => void): this;
  /** The watcher closed (close() or a failed feed). */
  on(event: 'close', listener: () => void): this;
  /** The change feed failed; the watcher is closed. */
  on(event: 'error', listener: (error: Error) => void): this;
  /** A route, address or link was added, changed or removed. */
  once(event: 'change', listener: (event: ChangeEvent) => void): this;
  /** The kernel dropped notifications: the whole state, dumped again. */
  once(event: 'resync', listener: (state: ResyncEvent) => void): this;
  /** The watcher closed (close() or a failed feed). */
  once(event: 'close', listener: () => void): this;
}

/** Emits 'change' for each route, address or link the kernel adds, changes or removes. */
export class RouteWatcher extends EventEmitter implements AsyncIterable<ChangeEvent> {
  // TypeScript `private`, not `#`: the emitted .d.ts then has no `#private`, which older targets reject.
  private feed: NativeChangeWatcher | undefined;
  private familyFilter: 4 | 6 | undefined;
  private iterators = 0;
  private userRef = false;

  constructor(options: WatchOptions = {}) {
    super();
    requireBackend();
    const o = validateObject<WatchOptions>('options', options);
    rejectUnknownKeys('options', o, new Set(['routes', 'addresses', 'links', 'family']));
    const want = (name: 'routes' | 'addresses' | 'links') => (o[name] === undefined ? true : validateBoolean(`options.${name}`, o[name]));
    if (o.family !== undefined && o.family !== 4 && o.family !== 6) throw invalidArgValue('options.family', o.family, 'must be 4 or 6');
    this.familyFilter = o.family;
    let groups = 0;
    if (want('routes')) groups |= (o.family !== 6 ? ChangeGroup.Routes4 : 0) | (o.family !== 4 ? ChangeGroup.Routes6 : 0);
    if (want('addresses')) groups |= (o.family !== 6 ? ChangeGroup.Addresses4 : 0) | (o.family !== 4 ? ChangeGroup.Addresses6 : 0);
    if (want('links')) groups |= ChangeGroup.Links;
    if (groups === 0) throw invalidArgValue('options', options, 'turns every kind of event off');
    const { ChangeWatcher } = native();
    this.feed = new ChangeWatcher(groups, (events, overflowed, error) => this.deliver(events, overflowed, error));
    this.feed.unref();
  }

  /** Keeps the process alive while the watcher is open. */
  ref(): this {
    this.userRef = true;
    this.feed?.ref();
    return this;
  }

  /** Lets the process exit even though the watcher is open (the default). */
  unref(): this {
    this.userRef = false;
    if (this.iterators === 0) this.feed?.unref();
    return this;
  }

  /** Whether close() was called or the feed failed: no more events will come. */
  get closed(): boolean {
    return this.feed === undefined;
  }

  /** Stops watching; emits 'close' once. Safe to call more than once. */
  close(): void {
    if (this.feed === undefined) return;
    this.feed.close();
    this.feed = undefined;
    this.emit('close');
  }

  private deliver(events: NativeChangeEvent[], overflowed: boolean, error: Error | undefined): void {
    for (const e of events) {
      const event = this.convert(e);
      if (event !== undefined) this.emit('change', event);
      if (this.feed === undefined) return; // a listener closed us
    }
    if (overflowed) {
      // Notifications were lost: dump everything again so a consumer can rebuild its view.
      const family = this.familyFilter;
      this.emit('resync', { routes: routes(family ? { family } : undefined), interfaces: interfaces() });
    }
    if (error !== undefined && this.feed !== undefined) {
      // The feed can no longer be watched: nothing more would ever arrive. Closed first, so an
      // 'error' nobody listens to (which throws) still leaves the watcher closed.
      this.feed.close();
      this.feed = undefined;
      try {
        this.emit('error', error);
      } finally {
        this.emit('close');
      }
    }
  }

  private convert(e: NativeChangeEvent): ChangeEvent | undefined {
    if (e.kind === 'link') {
      const { addresses: _unused, ...rest } = toInterface(e.entry as NativeLink);
      void _unused;
      return { kind: 'link', action: e.action, ...rest };
    }
    if (e.kind === 'route') {
      const route = e.entry as NativeRoute;
      if ((route.flags & RTM_F_CLONED) !== 0) return undefined; // per-destination cache entries
      if (this.familyFilter !== undefined && route.version !== this.familyFilter) return undefined;
      return { kind: 'route', action: e.action, ...toEntry(route) };
    }
    const address = e.entry as NativeAddress;
    if (this.familyFilter !== undefined && address.version !== this.familyFilter) return undefined;
    const owner = e.interface;
    const converted = toInterfaceAddress(address, owner ?? String(address.index));
    if (converted === undefined) return undefined;
    return { kind: 'address', action: e.action, ...converted, ...(owner !== undefined ? { interface: owner } : {}), ifindex: address.index };
  }

  /** `for await (const event of watch())`: keeps the process alive while iterating; break closes. */
  [Symbol.asyncIterator](): AsyncIterableIterator<ChangeEvent> {
    const queue: ChangeEvent[] = [];
    const waiting: Array<(result: IteratorResult<ChangeEvent>) => void> = [];
    const onChange = (event: ChangeEvent) => {
      const next = waiting.shift();
      if (next) next({ value: event, done: false });
      else queue.push(event);
    };
    const onClose = () => finish();
    const finish = () => {
      this.off('change', onChange);
      this.off('close', onClose);
      if (--this.iterators === 0 && !this.userRef) this.feed?.unref();
      for (const next of waiting.splice(0)) next({ value: undefined, done: true });
    };
    this.on('change', onChange);
    this.on('close', onClose);
    this.iterators++;
    this.feed?.ref();
    const iterator: AsyncIterableIterator<ChangeEvent> = {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
        if (this.feed === undefined) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => waiting.push(resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}

/** Starts watching route, address and link changes. */
export function watch(options?: WatchOptions): RouteWatcher {
  return new RouteWatcher(options);
}
