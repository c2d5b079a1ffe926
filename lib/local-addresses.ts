// The host's local addresses and the interfaces that own them, kept current from the change feed:
// 'add' when an address becomes usable (assigned, and past duplicate address detection), 'remove'
// when it goes (deleted, its link gone, or tentative again). Per-address servers (server-listeners.ts)
// open and close their listeners from these events.
import { EventEmitter } from 'node:events';

import { interfaces, type InterfaceAddress, type NetworkInterface } from './interfaces';
import { RouteWatcher, type ChangeEvent, type ResyncEvent } from './watch';

/** One usable address of this host. */
export interface LocalAddress {
  /** The address, without a zone (`fe80::1`, not `fe80::1%eth0`). */
  address: string;
  family: 4 | 6;
  /** The interface that owns it, and its index. */
  interface: string;
  ifindex: number;
  /** 'global', 'link', 'host', … as interfaces() names it. */
  scope: InterfaceAddress['scope'];
  /** The owner is a loopback device (lo): 127.0.0.1, ::1, or a service address (VIP) put there. */
  onLoopback: boolean;
}

export declare interface LocalAddresses {
  on(event: 'add' | 'remove', listener: (address: LocalAddress) => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
}

/** The key of an address: the same address on two links (fe80::1 on ethA and ethB) is two entries. */
export function addressKey(a: Pick<LocalAddress, 'address' | 'ifindex'>): string {
  return `${a.ifindex}/${a.address}`;
}

function usable(a: InterfaceAddress): boolean {
  return !a.flags.includes('tentative') && !a.flags.includes('dadfailed');
}

function unzoned(address: string): string {
  const percent = address.indexOf('%');
  return percent === -1 ? address : address.slice(0, percent);
}

function entryOf(a: InterfaceAddress, owner: { name: string; ifindex: number; loopback: boolean }): LocalAddress {
  return { address: unzoned(a.address), family: a.family, interface: owner.name, ifindex: owner.ifindex, scope: a.scope, onLoopback: owner.loopback };
}

/**
 * Follows the host's addresses. Subscribes before it dumps, so no change between the dump and the
 * first event is lost (an event for a state already seen is a no-op). The feed does not keep the
 * process alive.
 */
export class LocalAddresses extends EventEmitter {
  private readonly current = new Map<string, LocalAddress>();
  private watcher: RouteWatcher | undefined;
  /** ifindex → whether that link is a loopback device, and its name (for events that lack it). */
  private readonly links = new Map<number, { name: string; loopback: boolean }>();

  constructor() {
    super();
    this.watcher = new RouteWatcher({ routes: false, addresses: true, links: true });
    this.watcher.on('change', (event: ChangeEvent) => this.apply(event));
    this.watcher.on('resync', (state: ResyncEvent) => this.rebuild(state.interfaces));
    this.watcher.on('error', (error: Error) => this.emit('error', error));
    this.rebuild(interfaces(), true);
  }

  /** The usable addresses now. */
  list(): LocalAddress[] {
    return [...this.current.values()];
  }

  /** Stops following; no more events. */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private rebuild(list: NetworkInterface[], quiet = false): void {
    const seen = new Set<string>();
    this.links.clear();
    for (const i of list) {
      const owner = { name: i.name, ifindex: i.ifindex, loopback: i.flags.includes('loopback') };
      this.links.set(i.ifindex, owner);
      for (const a of i.addresses) {
        if (!usable(a)) continue;
        const entry = entryOf(a, owner);
        seen.add(addressKey(entry));
        this.put(entry, quiet);
      }
    }
    for (const [key, entry] of this.current) if (!seen.has(key)) this.drop(key, entry);
  }

  private apply(event: ChangeEvent): void {
    if (event.kind === 'link') {
      if (event.action === 'delete') {
        this.links.delete(event.ifindex);
        for (const [key, entry] of this.current) if (entry.ifindex === event.ifindex) this.drop(key, entry);
      } else {
        this.links.set(event.ifindex, { name: event.name, loopback: event.flags.includes('loopback') });
        // A renamed link: its addresses keep their keys; their owner's name follows.
        for (const entry of this.current.values()) if (entry.ifindex === event.ifindex) entry.interface = event.name;
      }
      return;
    }
    if (event.kind !== 'address') return;
    const link = this.links.get(event.ifindex);
    const owner = { name: event.interface ?? link?.name ?? String(event.ifindex), ifindex: event.ifindex, loopback: link?.loopback ?? event.ifindex === 1 };
    const entry = entryOf(event, owner);
    const key = addressKey(entry);
    if (event.action === 'delete' || !usable(event)) {
      const known = this.current.get(key);
      if (known !== undefined) this.drop(key, known);
    } else {
      this.put(entry, false);
    }
  }

  private put(entry: LocalAddress, quiet: boolean): void {
    const key = addressKey(entry);
    if (this.current.has(key)) return;
    this.current.set(key, entry);
    if (!quiet) this.emit('add', entry);
  }

  private drop(key: string, entry: LocalAddress): void {
    this.current.delete(key);
    this.emit('remove', entry);
  }
}

/** Starts following the host's addresses (Linux, macOS and Windows: wherever the change feed has address events). */
export function localAddresses(): LocalAddresses {
  return new LocalAddresses();
}
