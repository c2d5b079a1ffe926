#!/usr/bin/env node
// `routebind` command line: the library's answers in the shape `ip` prints them (or JSON), change events,
// a connect check that shows routebind's decision, and a doctor for the host's multi-homing risks.
import './cli-startup'; // first: a missing addon ends the CLI with one line, not a stack trace
import * as dns from 'node:dns';
import { readFileSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { doctor, type DoctorReport } from './doctor';
import { systemError } from './errors';
import { interfaces, type NetworkInterface } from './interfaces';
import { routes, routeTo, type Route, type RouteEntry, type RouteQuery } from './route';
import { createSocket } from './dgram';
import { hasBackend, unsupportedPlatform } from './platform';
import { describe, type SocketDescription } from './describe';
import { createServer } from './server';
import { connect } from './tcp-client';
import { watch, type ChangeAction, type ChangeEvent } from './watch';

interface Command {
  usage: string;
  summary: string;
  /** More of `--help`: options, output, exit codes. */
  details?: string;
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  run(positionals: string[], values: Record<string, string | boolean | undefined>): number | Promise<number>;
}

const EXIT_USAGE = 64; // EX_USAGE
const EXIT_FAILURE = 1;
const EXIT_RISKS = 3; // doctor: risks found

const TABLE_NAMES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' };

function tableName(table: number): string {
  return TABLE_NAMES[table] ?? String(table);
}

/** ip prints a mark below 16 in decimal, from 16 on in hex (`mark 9`, `mark 0x10`). */
function markText(mark: number): string {
  return mark < 16 ? String(mark) : `0x${mark.toString(16)}`;
}

/**
 * A route answer as `ip route get` prints it: `table` only where it is not main, `proto` and
 * `scope` only for IPv6 (IPv4 answers are cache clones, whose protocol ip leaves out), `uid` and
 * the metric only where the kernel reports them (`uid` for IPv4, the metric for IPv6).
 */
export function formatRoute(r: Route): string {
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(r.destination);
  if (r.from) parts.push('from', r.from);
  if (r.iif) parts.push('iif', r.iif);
  if (r.gateway) parts.push('via', r.gateway);
  if (r.interface) parts.push('dev', r.interface);
  if (r.table !== 254 && r.table !== 0) parts.push('table', tableName(r.table));
  if (r.family === 6) {
    if (r.protocol !== 'boot') parts.push('proto', r.protocol);
    if (r.scope !== 'global') parts.push('scope', String(r.scope));
  }
  if (r.preferredSource) parts.push('src', r.preferredSource);
  if (r.family === 6 && r.metric !== undefined) parts.push('metric', String(r.metric));
  if (r.mark !== undefined) parts.push('mark', markText(r.mark));
  if (r.family === 4 && r.uid !== undefined) parts.push('uid', String(r.uid));
  if (r.pref !== undefined) parts.push('pref', r.pref);
  if (r.mtu !== undefined) parts.push('mtu', String(r.mtu));
  return parts.join(' ');
}

/**
 * A table entry as `ip route show` prints it: no `/32` (`/128`) on host routes, no `table main`,
 * and no table at all when one table was asked for (`ip route show table local`).
 */
export function formatEntry(e: RouteEntry, oneTable = false): string {
  const parts: string[] = [];
  if (e.type !== 'unicast') parts.push(e.type);
  const host = e.prefixLength === (e.family === 6 ? 128 : 32);
  parts.push(e.prefixLength === 0 ? 'default' : host ? e.destination.replace(/\/\d+$/, '') : e.destination);
  if (e.sourcePrefix) parts.push('from', e.sourcePrefix);
  if (e.gateway) parts.push('via', e.gateway);
  if (e.interface) parts.push('dev', e.interface);
  if (e.table !== 254 && !oneTable) parts.push('table', tableName(e.table));
  if (e.protocol !== 'boot' && e.protocol !== 'unspec') parts.push('proto', e.protocol);
  if (e.scope !== 'global') parts.push('scope', String(e.scope));
  if (e.preferredSource) parts.push('src', e.preferredSource);
  if (e.metric !== undefined) parts.push('metric', String(e.metric));
  for (const hop of e.nexthops ?? []) parts.push('\n\tnexthop', ...(hop.gateway ? ['via', hop.gateway] : []), 'dev', hop.interface ?? String(hop.ifindex), 'weight', String(hop.weight));
  if (e.pref !== undefined) parts.push('pref', e.pref);
  return parts.join(' ');
}

// ip's order and spelling of link flags (iproute2 print_link_flags); RUNNING is shown as the
// absence of NO-CARRIER.
const IP_LINK_FLAGS = [
  'loopback', 'broadcast', 'point-to-point', 'multicast', 'noarp', 'allmulti', 'promisc', 'master', 'slave',
  'debug', 'dynamic', 'automedia', 'portsel', 'notrailers', 'up', 'lower-up', 'dormant', 'echo',
];
const IP_FLAG_SPELLING: Record<string, string> = { 'point-to-point': 'POINTOPOINT', 'lower-up': 'LOWER_UP' };

export function linkFlagsText(flags: readonly string[]): string {
  const shown = flags.includes('up') && !flags.includes('running') ? ['NO-CARRIER'] : [];
  for (const f of IP_LINK_FLAGS) if (flags.includes(f)) shown.push(IP_FLAG_SPELLING[f] ?? f.toUpperCase());
  return `<${shown.join(',')}>`;
}

/** An interface as `ip addr` prints it, without qdisc, group, brd and lifetimes. */
export function formatInterface(i: NetworkInterface): string {
  const lines = [`${i.ifindex}: ${i.name}: ${linkFlagsText(i.flags)} mtu ${i.mtu} state ${i.operstate.toUpperCase()}`];
  if (i.flags.includes('loopback')) lines.push(`    link/loopback ${i.mac ?? '00:00:00:00:00:00'}`);
  else if (i.mac !== null && i.mac.split(':').length === 6) lines.push(`    link/ether ${i.mac}`);
  else if (i.mac !== null) lines.push(`    link ${i.mac}`);
  else lines.push('    link/none');
  for (const a of i.addresses) {
    const flags = a.flags.filter((f) => f !== 'permanent');
    // ip labels IPv4 addresses with their interface, after the flags.
    const label = a.family === 4 ? ` ${a.label ?? i.name}` : '';
    const brd = a.broadcast ? ` brd ${a.broadcast}` : '';
    lines.push(`    inet${a.family === 6 ? '6' : ''} ${a.cidr}${a.peer ? ` peer ${a.peer}` : ''}${brd} scope ${a.scope}${flags.length ? ` ${flags.join(' ')}` : ''}${label}`);
  }
  return lines.join('\n');
}

class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}
function usage(message: string): UsageError {
  return new UsageError(message);
}

/** An integer flag within [min, max]; anything else is bad usage, named by its flag. */
function integerFlag(flag: string, value: string | boolean | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim();
  const n = /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : NaN;
  if (typeof value !== 'string' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw usage(`--${flag} takes an integer from ${min} to ${max} (got '${String(value)}')`);
  }
  return n;
}

function isAddress(text: string): boolean {
  return isIP(text.split('%')[0]) !== 0;
}

/** An address flag: an IPv4 or IPv6 literal (a zone allowed), or bad usage naming the flag. */
function addressFlag(flag: string, value: string | boolean | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (!isAddress(value)) throw usage(`--${flag} takes an IPv4 or IPv6 address (got '${value}')`);
  return value;
}

/** A destination argument: an address literal; a name is refused with the way to resolve it. */
function destinationArg(value: string): string {
  if (!isAddress(value)) {
    throw usage(/^\d+(\.\d+)*$/.test(value) || value.includes(':')
      ? `'${value}' is not an IPv4 or IPv6 address`
      : `'${value}' is not an IP address (names are not resolved here: \`getent ahosts ${value}\` gives its addresses)`);
  }
  return value;
}

function familyOf(address: string): 4 | 6 {
  return isIP(address.split('%')[0]) === 6 ? 6 : 4;
}

const IP_WORDS: Record<string, string> = {
  oif: 'interface', dev: 'interface', from: 'from', iif: 'iif', mark: 'mark', tos: 'tos', dsfield: 'tos',
  uid: 'uid', ipproto: 'protocol', sport: 'sport', dport: 'dport', table: 'table',
};

/** `get 1.2.3.4 oif eth0`: ip's words are not routebind's flags; say which flag is meant. */
function rejectIpWords(positionals: string[], command: string): void {
  for (let i = 0; i < positionals.length; i++) {
    const flag = IP_WORDS[positionals[i]];
    if (flag === undefined || !(flag in (commands[command].options ?? {}))) continue;
    const value = positionals[i + 1];
    throw usage(`unexpected '${positionals[i]}${value !== undefined ? ` ${value}` : ''}': did you mean --${flag}${value !== undefined ? ` ${value}` : ''}?`);
  }
}

function interfaceArg(value: string | boolean | undefined): string | number | undefined {
  if (typeof value !== 'string') return undefined;
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** `host:port`, `v4:port` or `[v6]:port` (a zone inside the brackets: `[fe80::1%eth0]:22`). */
export function parseHostPort(text: string): { host: string; port: number } {
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(text);
  if (bracketed) {
    [, host, portText] = bracketed;
    if (isIP(host.split('%')[0]) !== 6) throw usage(`'${host}' in brackets is not an IPv6 address`);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon <= 0) throw usage(`'${text}' is not host:port`);
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host.includes(':')) throw usage(`write an IPv6 address in brackets: [${host}]:${portText}`);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw usage(`'${portText}' is not a port (1-65535)`);
  return { host, port };
}

// ---------------------------------------------------------------------------------------------
// watch

const SIGN: Record<ChangeAction, string> = { add: '+', delete: '-', change: '~' };

/** One change event as one line, the way `ip monitor` would show it: `+ route …`, `- address …`, `~ link …`. */
export function formatChange(e: ChangeEvent): string {
  if (e.kind === 'route') return `${SIGN[e.action]} route ${formatEntry(e).replace(/\n\t/g, ' ')}`;
  if (e.kind === 'address') {
    return `${SIGN[e.action]} address ${e.cidr}${e.peer ? ` peer ${e.peer}` : ''} dev ${e.interface ?? e.ifindex}${e.scope !== 'global' ? ` scope ${e.scope}` : ''}`;
  }
  return `${SIGN[e.action]} link ${e.name} ${linkFlagsText(e.flags)} mtu ${e.mtu} state ${e.operstate.toUpperCase()}`;
}

function runWatch(family: 4 | 6 | undefined, json: boolean): Promise<number> {
  const watcher = watch(family !== undefined ? { family } : undefined).ref();
  return new Promise<number>((resolve) => {
    const stop = (code: number) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.off('error', onOutputError);
      watcher.close();
      resolve(code);
    };
    const onSignal = () => stop(0);
    // A reader that went away (`routebind watch | head -1`) ends the watch, as it ends `ip monitor`.
    const onOutputError = (error: NodeJS.ErrnoException) => stop(error.code === 'EPIPE' ? 0 : EXIT_FAILURE);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.stdout.on('error', onOutputError);
    watcher.on('change', (event) => {
      process.stdout.write(`${json ? JSON.stringify(event) : formatChange(event)}\n`);
    });
    watcher.on('resync', (state) => {
      process.stdout.write(json
        ? `${JSON.stringify({ kind: 'resync', ...state })}\n`
        : `! resync: the kernel dropped notifications; now ${state.routes.length} routes, ${state.interfaces.length} interfaces\n`);
    });
    watcher.on('error', (error) => {
      console.error(errorLine('watch', error));
      stop(EXIT_FAILURE);
    });
    // On stderr, so --json output holds nothing but events; it also tells a script we are listening.
    process.stderr.write(`routebind watch: listening for ${family !== undefined ? `IPv${family} ` : ''}route, address and link changes; Ctrl-C stops\n`);
  });
}

// ---------------------------------------------------------------------------------------------
// serve

/** `[v6]:port` or `v4:port`, without the v4-mapped prefix a dual-stack socket reports. */
function endpoint(address: string | undefined, port: number | undefined): string {
  const plain = (address ?? '?').replace(/^::ffff:(?=\d+\.)/, '');
  return plain.includes(':') ? `[${plain}]:${port ?? '?'}` : `${plain}:${port ?? '?'}`;
}

interface ServedLine {
  protocol: 'tcp' | 'udp';
  client: string;
  local?: string;
  interface?: string;
  pinned?: string | null;
}

function formatServed(l: ServedLine): string {
  const through = l.interface !== undefined ? ` dev ${l.interface}` : '';
  const pin = l.pinned ? ` (${l.pinned})` : l.pinned === null ? ' (unpinned: routed to the client)' : '';
  return `${l.protocol} ${l.client} -> ${l.local ?? 'local address unknown'}${through}${pin}`;
}

/**
 * An echo server on the wildcard that answers every client from the address it asked: TCP through
 * routebind's per-address listeners, UDP through routebind's socket. One line per client (per
 * datagram for UDP). Ends on Ctrl-C, or after `count` clients.
 */
function runServe(port: number, udp: boolean, iface: string | number | undefined, count: number | undefined, json: boolean): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let served = 0;
    let closeServer = (_hard: boolean) => undefined as void;
    // Ctrl-C ends open connections too; --count lets the last clients finish their echo.
    const stop = (code: number, hard = true) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      closeServer(hard);
      resolve(code);
    };
    const onSignal = () => stop(0);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const report = (line: ServedLine) => {
      process.stdout.write(`${json ? JSON.stringify(line) : formatServed(line)}\n`);
      if (count !== undefined && ++served >= count) stop(0, false);
    };
    const failed = (error: Error) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      closeServer(true);
      reject(error);
    };
    const where = iface !== undefined ? ` on ${iface}` : '';
    if (udp) {
      const socket = createSocket({ type: 'udp6' });
      closeServer = () => socket.close();
      socket.on('error', failed);
      socket.on('message', (message, rinfo) => {
        const extra = rinfo as typeof rinfo & { localAddress?: string; interface?: string };
        // Reported once sent: with --count the socket closes after the last report.
        socket.send(message, rinfo.port, rinfo.address, () => report({
          protocol: 'udp', client: endpoint(rinfo.address, rinfo.port),
          ...(extra.localAddress !== undefined ? { local: endpoint(extra.localAddress, port) } : {}),
          ...(extra.interface !== undefined ? { interface: extra.interface } : {}),
        }));
      });
      socket.bind({ port, ...(iface !== undefined ? { interface: iface } : {}) }, () => {
        const a = socket.address();
        process.stderr.write(`routebind serve: udp echo on ${endpoint(a.address, a.port)}${where}; Ctrl-C stops\n`);
      });
      return;
    }
    const server = createServer((connection) => {
      connection.on('error', () => undefined);
      connection.pipe(connection);
      const d = describe(connection);
      report({
        protocol: 'tcp', client: endpoint(connection.remoteAddress, connection.remotePort), local: endpoint(connection.localAddress, connection.localPort),
        ...(d?.interface !== undefined ? { interface: d.interface } : {}),
        ...(d !== undefined ? { pinned: d.pinned } : {}),
      });
    });
    closeServer = (hard) => {
      server.close();
      // Connections still open would keep an echo server up: the operator asked it to stop.
      if (hard) for (const c of open) c.destroy();
    };
    const open = new Set<Socket>();
    server.on('connection', (c: Socket) => {
      open.add(c);
      c.once('close', () => open.delete(c));
    });
    server.on('error', failed);
    server.listen({ port, ...(iface !== undefined ? { interface: iface } : {}) }, () => {
      const a = server.address() as { address: string; port: number };
      const d = describe(server);
      const per = d?.perAddress !== undefined ? `, answering per address: ${d.perAddress.map((l) => `${l.address} ${l.interface}`).join(', ')}` : '';
      process.stderr.write(`routebind serve: tcp echo on ${endpoint(a.address, a.port)}${where}${per}; Ctrl-C stops\n`);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// connect

interface Routing { interface?: string | number; localAddress?: string; mark?: number }

interface ConnectOutcome {
  ok: boolean;
  protocol: 'tcp' | 'udp';
  host: string;
  port: number;
  resolved: string[];
  decision?: SocketDescription;
  local?: { address: string; port: number };
  remote?: { address: string; port: number };
  elapsedMs: number;
  error?: { code?: string; errno?: number; syscall?: string; message: string };
}

function decisionLines(d: SocketDescription | undefined): string[] {
  if (d === undefined) return ['  decision:  none (failed before a socket was made)'];
  const lines: string[] = [];
  lines.push(`  route:     ${d.route ? formatRoute(d.route) : '(none looked up: bound by address)'}`);
  lines.push(`  source:    ${d.source}`);
  lines.push(`  interface: ${d.interface !== undefined ? `${d.interface}${d.ifindex !== undefined ? ` (index ${d.ifindex})` : ''}` : '(any)'}`);
  lines.push(`  pinned:    ${d.pinned ?? `no${d.pinError ? ` (${d.pinError})` : ''}`}`);
  return lines;
}

function errorSummary(error: unknown): ConnectOutcome['error'] {
  const e = error as { code?: string; errno?: number; syscall?: string; message?: string };
  return {
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(typeof e.errno === 'number' ? { errno: e.errno } : {}),
    ...(e.syscall !== undefined ? { syscall: e.syscall } : {}),
    message: String(e.message ?? error),
  };
}

/** Waits for 'connect' or the first error, whichever comes first; `timeoutMs` ends the wait. */
function settle(socket: { once(event: string, listener: (...args: any[]) => void): unknown }, timeoutMs: number, onTimeout: () => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = timeoutMs > 0 ? setTimeout(() => reject(onTimeout()), timeoutMs) : undefined;
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function connectTcp(host: string, port: number, routing: Routing, timeoutMs: number, outcome: ConnectOutcome): Promise<Socket> {
  const socket = connect({ host, port, ...routing });
  socket.on('lookup', (err: Error | null, address: string) => {
    if (!err) outcome.resolved.push(address);
  });
  try {
    await settle(socket, timeoutMs, () => systemError('ETIMEDOUT', 'connect', `${host}:${port} (no answer within ${timeoutMs} ms)`, { address: host, port }));
  } catch (error) {
    outcome.decision = describe(socket);
    socket.destroy();
    throw error;
  }
  outcome.decision = describe(socket);
  outcome.local = { address: socket.localAddress!, port: socket.localPort! };
  outcome.remote = { address: socket.remoteAddress!, port: socket.remotePort! };
  return socket;
}

/** Half-closes and drains, so the peer sees a FIN rather than a reset; destroys after a short wait. */
function closeGently(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => socket.destroy(), 500);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', () => socket.destroy()); // the outcome is already known
    socket.resume();
    socket.end();
  });
}

async function connectUdp(host: string, port: number, routing: Routing, timeoutMs: number, outcome: ConnectOutcome): Promise<void> {
  let address = host;
  if (isIP(host.split('%')[0]) === 0) {
    // Resolved here: dgram would resolve a name itself and skip routebind's decision.
    const localFamily = routing.localAddress !== undefined ? isIP(routing.localAddress) : 0;
    address = (await dns.promises.lookup(host, { family: localFamily === 4 || localFamily === 6 ? localFamily : 0 })).address;
    outcome.resolved.push(address);
  }
  const family = isIP(address.split('%')[0]) === 6 ? 6 : 4;
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ...(routing.interface !== undefined ? { interface: routing.interface } : {}), ...(routing.mark !== undefined ? { mark: routing.mark } : {}) });
  try {
    if (routing.localAddress !== undefined) {
      const localFamily = isIP(routing.localAddress.split('%')[0]);
      if (localFamily !== 0 && localFamily !== family) {
        throw systemError('EINVAL', 'bind', `${routing.localAddress}: the local address is IPv${localFamily} but ${address} is IPv${family}`, { address: routing.localAddress });
      }
      const bound = new Promise<void>((resolve, reject) => {
        socket.once('listening', resolve);
        socket.once('error', reject);
      });
      socket.bind({ address: routing.localAddress, port: 0 });
      await bound;
    }
    const connected = settle(socket, timeoutMs, () => systemError('ETIMEDOUT', 'connect', `${address}:${port}`, { address, port }));
    socket.connect(port, address, (error?: Error) => {
      if (error) socket.emit('error', error);
    });
    await connected;
    outcome.decision = describe(socket);
    const local = socket.address();
    const remote = socket.remoteAddress();
    outcome.local = { address: local.address, port: local.port };
    outcome.remote = { address: remote.address, port: remote.port };
  } catch (error) {
    outcome.decision = describe(socket);
    throw error;
  } finally {
    socket.close();
  }
}

/** SO_MARK refused: say what it needs rather than a bare setsockopt EPERM. */
function markRefused(error: unknown, mark: number | undefined): unknown {
  const e = error as { code?: string; syscall?: string };
  // Pinning without privilege is skipped (not an error) unless strict, so with a mark asked for,
  // EPERM at socket setup is SO_MARK's.
  if (mark === undefined || (e.code !== 'EPERM' && e.code !== 'EACCES') || !['setsockopt', 'connect', 'bind'].includes(e.syscall ?? 'setsockopt')) return error;
  return Object.assign(new Error(`--mark ${mark}: SO_MARK needs CAP_NET_ADMIN`), {
    code: e.code,
    hint: 'run as root, or give node CAP_NET_ADMIN (systemd AmbientCapabilities=CAP_NET_ADMIN, or setcap cap_net_admin+ep)',
  });
}

async function runConnect(target: { host: string; port: number }, routing: Routing, udp: boolean, timeoutMs: number, json: boolean): Promise<number> {
  const { host, port } = target;
  const protocol = udp ? 'udp' : 'tcp';
  const outcome: ConnectOutcome = { ok: false, protocol, host, port, resolved: [], elapsedMs: 0 };
  const started = performance.now();
  let failure: unknown;
  try {
    if (udp) await connectUdp(host, port, routing, timeoutMs, outcome);
    else await closeGently(await connectTcp(host, port, routing, timeoutMs, outcome));
    outcome.ok = true;
  } catch (error) {
    failure = markRefused(error, routing.mark);
    outcome.error = errorSummary(error);
  }
  outcome.elapsedMs = Math.round((performance.now() - started) * 1000) / 1000;
  if (json) {
    console.log(JSON.stringify(outcome, null, 2));
  } else {
    const lines = [`connect ${host} port ${port} (${protocol})${outcome.resolved.length ? `: ${host} is ${outcome.resolved.join(', ')}` : ''}`, ...decisionLines(outcome.decision)];
    if (outcome.ok) {
      const via = outcome.decision?.interface ? ` through ${outcome.decision.interface}` : '';
      const what = udp ? 'UDP socket connected (nothing sent)' : 'Connection succeeded';
      lines.push(`${what}: ${outcome.local!.address} port ${outcome.local!.port} -> ${outcome.remote!.address} port ${outcome.remote!.port}${via} in ${outcome.elapsedMs.toFixed(1)} ms`);
    } else {
      lines.push(`Connection failed: ${outcome.error?.code ?? 'error'} after ${outcome.elapsedMs.toFixed(1)} ms`);
    }
    console.log(lines.join('\n'));
  }
  if (failure !== undefined) throw failure;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// doctor

export function formatReport(report: DoctorReport): string {
  const uplinks = report.uplinks.map((u) => `${u.interface}${u.addresses.length ? ` ${u.addresses.join(', ')}` : ''}`).join('; ');
  const lines: string[] = [];
  if (report.findings.length === 0) {
    lines.push(`No multi-homing risks found. Uplinks: ${uplinks || 'none'}.`);
    return lines.join('\n');
  }
  lines.push(`${report.findings.length} multi-homing risk${report.findings.length === 1 ? '' : 's'} found. Uplinks: ${uplinks || 'none'}.`);
  for (const f of report.findings) {
    lines.push('', `[${f.severity}] ${f.title}`, `  (${f.id})`);
    lines.push(...wrap(f.detail, 96).map((l) => `  ${l}`));
    lines.push('  Fix:', ...f.fix.split('\n').map((l) => `    ${l}`));
  }
  return lines.join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

const commands: Record<string, Command> = {
  get: {
    usage: 'routebind get <destination> [--from ADDR] [--interface IF] [--iif IF] [--mark N] [--uid N] [--tos N] [--protocol P] [--sport N] [--dport N] [--json]',
    summary: 'the route the kernel uses for a destination (like `ip route get`)',
    details: [
      'destination is an IPv4 or IPv6 address (a link-local one may carry its zone: fe80::1%eth0).',
      '  --from ADDR            route from this source address (ip: from); selects `ip rule from` policies',
      '  --interface, -i IF     the route leaving through IF, by name or index (ip: oif)',
      '  --iif IF               as a packet arriving on IF would be routed (ip: iif); needs --from',
      '  --mark N               with this firewall mark (ip: mark), 0 to 4294967295, decimal or 0x…',
      '  --uid N                as a socket owned by this uid would be routed (ip: uid)',
      '  --tos N                with this type-of-service byte (ip: tos), 0 to 255',
      '  --protocol P           for this IP protocol: tcp, udp, icmp, icmpv6, sctp or a number (ip: ipproto)',
      '  --sport N, --dport N   for this source / destination port (ip: sport, dport), 0 to 65535',
      '  --json                 the Route object: `source` is what a socket would send from, `preferredSource`',
      '                         the route\'s own (ip: src)',
      'Prints the answer as `ip route get` does. Exit codes: 0 a route, 1 none (the code is printed), 64 bad usage.',
    ].join('\n'),
    options: {
      from: { type: 'string' }, interface: { type: 'string', short: 'i' }, iif: { type: 'string' },
      mark: { type: 'string' }, uid: { type: 'string' }, tos: { type: 'string' },
      protocol: { type: 'string' }, sport: { type: 'string' }, dport: { type: 'string' }, json: { type: 'boolean' },
    },
    run(positionals, v) {
      rejectIpWords(positionals, 'get');
      if (positionals.length !== 1) throw usage(positionals.length === 0 ? 'get takes a destination' : 'get takes exactly one destination');
      const destination = destinationArg(positionals[0]);
      const query: RouteQuery = {};
      const from = addressFlag('from', v.from);
      if (from !== undefined) {
        if (familyOf(from) !== familyOf(destination)) throw usage(`--from ${from} is IPv${familyOf(from)} but ${destination} is IPv${familyOf(destination)}`);
        query.from = from;
      }
      const iface = interfaceArg(v.interface);
      if (iface !== undefined) query.interface = iface;
      const iif = interfaceArg(v.iif);
      if (iif !== undefined) query.iif = iif;
      const mark = integerFlag('mark', v.mark, 0, 0xffffffff);
      if (mark !== undefined) query.mark = mark;
      const uid = integerFlag('uid', v.uid, 0, 0xfffffffe);
      if (uid !== undefined) query.uid = uid;
      const tos = integerFlag('tos', v.tos, 0, 255);
      if (tos !== undefined) query.tos = tos;
      if (typeof v.protocol === 'string') {
        const p = v.protocol.toLowerCase();
        if (['tcp', 'udp', 'icmp', 'icmpv6', 'sctp'].includes(p)) query.protocol = p as RouteQuery['protocol'];
        else if (/^\d+$/.test(p)) query.protocol = integerFlag('protocol', v.protocol, 0, 255);
        else throw usage(`--protocol takes tcp, udp, icmp, icmpv6, sctp or a number from 0 to 255 (got '${v.protocol}')`);
      }
      const sport = integerFlag('sport', v.sport, 0, 65535);
      if (sport !== undefined) query.sourcePort = sport;
      const dport = integerFlag('dport', v.dport, 0, 65535);
      if (dport !== undefined) query.destinationPort = dport;
      let route: Route;
      try {
        route = routeTo(destination, query);
      } catch (error) {
        throw noRoute(error, destination, query);
      }
      console.log(v.json ? JSON.stringify(route, null, 2) : formatRoute(route));
      return 0;
    },
  },
  interfaces: {
    usage: 'routebind interfaces [NAME] [--json]',
    summary: 'interfaces and their addresses (like `ip addr`); NAME (or index) shows one',
    options: { json: { type: 'boolean' } },
    run(positionals, v) {
      rejectIpWords(positionals, 'interfaces');
      if (positionals.length > 1) throw usage('interfaces takes at most one interface name');
      let list = interfaces();
      if (positionals.length === 1) {
        const wanted = positionals[0];
        list = list.filter((i) => i.name === wanted || String(i.ifindex) === wanted || (i.altnames ?? []).includes(wanted));
        if (list.length === 0) throw Object.assign(new Error(`no interface named ${wanted}`), { code: 'ENODEV', hint: '`routebind interfaces` lists them' });
      }
      console.log(v.json ? JSON.stringify(positionals.length === 1 ? list[0] : list, null, 2) : list.map(formatInterface).join('\n'));
      return 0;
    },
  },
  routes: {
    usage: 'routebind routes [--table T|all] [--family 4|6] [--json]',
    summary: 'routing table entries (like `ip route show table all`)',
    options: { table: { type: 'string' }, family: { type: 'string' }, json: { type: 'boolean' } },
    run(positionals, v) {
      rejectIpWords(positionals, 'routes');
      if (positionals.length !== 0) throw usage(`routes takes no arguments (got '${positionals[0]}')`);
      const table = v.table === undefined || v.table === 'all' || v.table === 'main' || v.table === 'local' || v.table === 'default'
        ? (v.table as 'all' | 'main' | 'local' | 'default' | undefined)
        : integerFlag('table', v.table, 0, 0xffffffff);
      const family = familyFlag(v.family);
      const list = routes({ ...(table !== undefined ? { table } : {}), ...(family !== undefined ? { family } : {}) });
      console.log(v.json ? JSON.stringify(list, null, 2) : list.map((e) => formatEntry(e, table !== undefined && table !== 'all')).join('\n'));
      return 0;
    },
  },
  watch: {
    usage: 'routebind watch [--family 4|6] [--json]',
    summary: 'route, address and link changes as they happen, one line each (like `ip monitor`)',
    details: [
      'Lines: `+` added, `-` removed, `~` changed, e.g.',
      '  + route 198.19.50.0/24 via 198.18.2.1 dev ethB metric 7',
      '  - address fd00:b::77/64 dev ethB',
      '  ~ link ethB <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP',
      '--json prints each event as one JSON object per line (`kind`, `action` and the entry).',
      'Runs until Ctrl-C (exit 0). A line on stderr says when it is listening.',
    ].join('\n'),
    options: { family: { type: 'string' }, json: { type: 'boolean' } },
    run(positionals, v) {
      if (positionals.length !== 0) throw usage(`watch takes no arguments (got '${positionals[0]}')`);
      return runWatch(familyFlag(v.family), v.json === true);
    },
  },
  connect: {
    usage: 'routebind connect <host:port> [--interface IF] [--local-address ADDR] [--mark N] [--udp] [--timeout MS] [--json]',
    summary: 'open a connection as routebind does, show its route, source, interface and pin, and the outcome (like `nc -vz`)',
    details: [
      'host:port takes an IPv4 address, a name, or an IPv6 address in brackets: [fd00::1]:443.',
      '  --interface, -i IF         leave through IF and send from its address',
      '  --local-address, -s ADDR   send from ADDR, through the interface that owns it',
      '  --mark N                   set SO_MARK N on the socket (needs CAP_NET_ADMIN) and route with it',
      '  --udp, -u                  a UDP socket: bound, pinned and connected; nothing is sent',
      '  --timeout, -w MS           give up after MS milliseconds (default 10000; 0 waits forever)',
      '  --json                     the decision and the outcome as one JSON object',
      'Nothing is sent but the TCP handshake; the connection is closed at once.',
      'Exit codes: 0 connected, 1 failed (the error code is printed), 64 bad usage.',
    ].join('\n'),
    options: {
      interface: { type: 'string', short: 'i' }, 'local-address': { type: 'string', short: 's' }, mark: { type: 'string' },
      udp: { type: 'boolean', short: 'u' }, timeout: { type: 'string', short: 'w' }, json: { type: 'boolean' },
    },
    run(positionals, v) {
      if (positionals.length !== 1) throw usage(positionals.length === 0 ? 'connect takes a host:port' : 'connect takes exactly one host:port');
      const timeout = integerFlag('timeout', v.timeout, 0, 2 ** 31 - 1) ?? 10_000;
      const target = parseHostPort(positionals[0]);
      const routing: Routing = {};
      const iface = interfaceArg(v.interface);
      if (iface !== undefined) routing.interface = iface;
      const local = addressFlag('local-address', v['local-address']);
      if (local !== undefined) {
        if (isAddress(target.host) && familyOf(local) !== familyOf(target.host)) {
          throw usage(`--local-address ${local} is IPv${familyOf(local)} but ${target.host} is IPv${familyOf(target.host)}`);
        }
        routing.localAddress = local;
      }
      const mark = integerFlag('mark', v.mark, 0, 0xffffffff);
      if (mark !== undefined) routing.mark = mark;
      return runConnect(target, routing, v.udp === true, timeout, v.json === true);
    },
  },
  serve: {
    usage: 'routebind serve --port N [--udp] [--interface IF] [--count N] [--json]',
    summary: 'an echo server that answers every client from the address it asked, printing who was served where',
    details: [
      'Listens on every address of this host (TCP: one listener per address, each pinned to the',
      'interface that owns it, following addresses as they come and go) and echoes what it gets.',
      'One line per client (per datagram with --udp):',
      '  tcp 198.18.4.2:40312 -> 198.18.2.2:7000 dev ethB (SO_BINDTODEVICE)',
      '  --port, -p N         the port (0: one the kernel picks, printed on stderr)',
      '  --udp, -u            a UDP echo server instead',
      '  --interface, -i IF   listen on IF only (pinned there)',
      '  --count, -c N        stop after N clients (or datagrams)',
      '  --json               each line as one JSON object',
      'Runs until Ctrl-C (exit 0). Exit codes: 0 stopped, 1 could not listen (EADDRINUSE, …), 64 bad usage.',
    ].join('\n'),
    options: {
      port: { type: 'string', short: 'p' }, udp: { type: 'boolean', short: 'u' }, interface: { type: 'string', short: 'i' },
      count: { type: 'string', short: 'c' }, json: { type: 'boolean' },
    },
    run(positionals, v) {
      if (positionals.length !== 0) throw usage(`serve takes no arguments (got '${positionals[0]}')`);
      const port = integerFlag('port', v.port, 0, 65535);
      if (port === undefined) throw usage('serve needs --port N');
      return runServe(port, v.udp === true, interfaceArg(v.interface), integerFlag('count', v.count, 1, 2 ** 31 - 1), v.json === true);
    },
  },
  doctor: {
    usage: 'routebind doctor [destination…] [--json]',
    summary: "explain this host's multi-homing risks and how to fix each",
    details: [
      'Checks: several default routes whose uplinks\' addresses leave through another interface;',
      'addresses whose interface has no route of its own; strict reverse-path filtering on a',
      'multi-homed host; IPv6 addresses without a route for their prefix; whether sockets may be',
      'pinned to an interface. Destinations (IP addresses) are what the route lookups are made for;',
      'without them a documentation address stands for "off-link". Only lookups: nothing is sent.',
      '--json prints the report ({ ok, findings: [{ id, severity, title, detail, fix }], … }).',
      `Exit codes: 0 no risks, ${EXIT_RISKS} risks found, 1 a system error, 64 bad usage.`,
    ].join('\n'),
    options: { json: { type: 'boolean' } },
    run(positionals, v) {
      const report = doctor(positionals.map(destinationArg));
      console.log(v.json ? JSON.stringify(report, null, 2) : formatReport(report));
      return report.ok ? 0 : EXIT_RISKS;
    },
  },
};

function familyFlag(value: string | boolean | undefined): 4 | 6 | undefined {
  if (value === undefined) return undefined;
  if (value !== '4' && value !== '6') throw usage(`--family takes 4 or 6 (got '${String(value)}')`);
  return Number(value) as 4 | 6;
}

/** A failed route lookup said the way `get` was asked: what, through which interface, from where. */
function noRoute(error: unknown, destination: string, q: RouteQuery): unknown {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return error;
  const through = q.interface !== undefined ? ` through ${q.interface}` : '';
  const from = q.from !== undefined ? ` from ${q.from}` : '';
  const arriving = q.iif !== undefined ? ` arriving on ${q.iif}` : '';
  let hint: string;
  switch (code) {
    case 'ENODEV': hint = `no interface is named ${q.interface ?? q.iif ?? ''}; \`routebind interfaces\` lists them`.replace(' named ;', ';'); break;
    case 'ENETUNREACH': hint = `no route covers ${destination}${through}; \`routebind routes\` lists them`; break;
    case 'EHOSTUNREACH': hint = `an unreachable route covers ${destination}; \`routebind routes\` shows it`; break;
    case 'EACCES': hint = `a prohibit route covers ${destination}; \`routebind routes\` shows it`; break;
    case 'EINVAL': hint = q.iif !== undefined || q.from !== undefined
      ? `the kernel refused this combination: --iif needs a --from that may arrive there, and a --from must suit ${destination}${q.iif === undefined ? `; or a blackhole route covers ${destination}` : ''}`
      : `a blackhole route covers ${destination}; \`routebind routes\` shows it`; break;
    case 'ENETDOWN': hint = `the interface${through} is down`; break;
    default: hint = '';
  }
  return Object.assign(new Error(`no route to ${destination}${through}${from}${arriving}`), { code, hint });
}

function help(): string {
  const lines = ['routebind — which route, interface and source the kernel uses, and sockets that keep them together', '', 'Commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(11)} ${c.summary}`, `              ${c.usage}`);
  lines.push(
    '',
    '`routebind <command> --help` describes a command; `routebind --version` prints the version.',
    `Exit codes: 0 success (doctor: no risks), 1 a system error (its code is printed), ${EXIT_RISKS} doctor found risks, 64 bad usage.`,
  );
  return lines.join('\n');
}

function version(): string {
  try {
    return String(JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version);
  } catch {
    return 'unknown';
  }
}

// The library's argument errors name its API fields; the command line names its flags.
const FLAG_OF_FIELD: Record<string, string> = {
  'options.from': '--from', 'options.interface': '--interface', 'options.iif': '--iif', 'options.mark': '--mark',
  'options.uid': '--uid', 'options.tos': '--tos', 'options.protocol': '--protocol', 'options.sourcePort': '--sport',
  'options.destinationPort': '--dport', 'options.table': '--table', 'options.family': '--family',
  'options.localAddress': '--local-address', localAddress: '--local-address', interface: '--interface',
};

function isUsageError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return error instanceof UsageError || (typeof code === 'string' && (code.startsWith('ERR_PARSE_ARGS') ||
    ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE', 'ERR_INVALID_IP_ADDRESS', 'ERR_SOCKET_BAD_PORT', 'ERR_ROUTEBIND_UNSUPPORTED_OPTION'].includes(code)));
}

function usageMessage(error: unknown): string {
  const e = error as { code?: string; message?: string };
  let message = String(e.message ?? error);
  if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(message)?.[1] ?? '';
    const word = option.replace(/^-+/, '');
    const flag = IP_WORDS[word];
    return `unknown option '${option}'${flag ? `: did you mean --${flag}?` : ''}`;
  }
  if (e.code?.startsWith('ERR_PARSE_ARGS')) return message.split('. ')[0].replace(/^Option '([^' ]+)[^']*' argument missing/, '$1 needs a value');
  for (const [field, flag] of Object.entries(FLAG_OF_FIELD)) message = message.split(`"${field}"`).join(flag).split(`'${field}'`).join(flag);
  return message;
}

/** Node's and routebind's system messages, without the syscall and code they repeat or internal names. */
function systemMessage(error: unknown): string {
  const e = error as { code?: string; syscall?: string; message?: string };
  let message = String(e.message ?? error).replace(/\s*\n\s*/g, ' ');
  if (e.syscall && e.code && message.startsWith(`${e.syscall} ${e.code} `)) {
    const rest = message.slice(e.syscall.length + e.code.length + 2);
    const dash = rest.indexOf(' - ');
    const detail = dash > 0 ? rest.slice(dash + 3).replace(/^(\S+) via (\S+)( \(RTM_[A-Z]+\))?$/, 'no route to $1 through $2') : '';
    message = dash > 0 ? `${e.syscall} ${rest.slice(0, dash)}: ${detail}` : `${e.syscall} ${rest}`;
  } else if (e.code && message.startsWith(`${e.code}: `)) {
    message = message.slice(e.code.length + 2);
  }
  message = message
    .replace(/\s*\((RTM_[A-Z]+|SIOC[A-Z]+)\)/g, '')
    .replace(/\b(routeTo|routeFor|RTM_[A-Z]+)\b\s*/g, '')
    .replace(/\blocalAddress\b/g, 'the local address')
    .replace(new RegExp(`\\s*\\b${e.code ?? '^$'}\\b\\s*`, 'g'), ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return message;
}

/** An error as one line: `routebind CMD: what happened (CODE); hint: …`. */
function errorLine(name: string, error: unknown, hint?: string): string {
  const code = (error as { code?: unknown })?.code;
  const message = String((error as Error)?.message ?? '');
  // routebind's own detail already says why (`… (a blackhole route, or …)`): no second guess.
  const explained = / - .*\(.+\)$/.test(message) && !/\(RTM_[A-Z]+\)$/.test(message);
  const h = hint ?? (error as { hint?: string })?.hint ?? (typeof code === 'string' && !explained ? hintFor(code, message) : '');
  return `routebind${name ? ` ${name}` : ''}: ${systemMessage(error)}${typeof code === 'string' ? ` (${code})` : ''}${h ? `; hint: ${h}` : ''}`;
}

function failed(name: string, command: Command, error: unknown): number {
  if (isUsageError(error)) {
    console.error(`routebind ${name}: ${usageMessage(error)}\nusage: ${command.usage}`);
    return EXIT_USAGE;
  }
  console.error(errorLine(name, error));
  return EXIT_FAILURE;
}

/** Runs one command line; a number, or a Promise of one for commands that wait (watch, connect). */
export function main(argv: string[]): number | Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  if (name === undefined) {
    console.error(help());
    return EXIT_USAGE;
  }
  if (name === '--version' || name === '-V') {
    console.log(`routebind ${version()}`);
    return 0;
  }
  const command = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
  if (command === undefined) {
    console.error(`routebind: unknown command '${name}'\ncommands: ${Object.keys(commands).join(', ')}; \`routebind --help\` explains them`);
    return EXIT_USAGE;
  }
  if (!hasBackend) {
    // Help and version above need nothing of the OS; every command does.
    console.error(errorLine(name, unsupportedPlatform()));
    return EXIT_FAILURE;
  }
  let result: number | Promise<number>;
  try {
    const { values, positionals } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (values.help) {
      console.log(`${command.usage}\n\n${command.summary}${command.details ? `\n\n${command.details}` : ''}`);
      return 0;
    }
    result = command.run(positionals, values as Record<string, string | boolean | undefined>);
  } catch (error) {
    return failed(name, command, error);
  }
  return typeof result === 'number' ? result : result.catch((error: unknown) => failed(name, command, error));
}

function hintFor(code: string, message = ''): string {
  switch (code) {
    case 'ENETUNREACH': return 'no route leaves for that destination (through that interface); check `routebind routes`';
    case 'EHOSTUNREACH': return 'the route table marks that destination unreachable, or no neighbour answered';
    case 'ENODEV': return 'no such interface; `routebind interfaces` lists them';
    case 'EACCES': return 'a prohibit route covers that destination';
    case 'EINVAL': return /IPv[46]/.test(message) ? 'give a --local-address of the destination\'s family' : 'a blackhole route covers that destination, or the source is of the other family';
    case 'EADDRNOTAVAIL': return '`routebind interfaces` lists the addresses of this host and their interfaces';
    case 'ECONNREFUSED': return 'the destination answered with a reset: nothing listens on that port';
    case 'ETIMEDOUT': return 'no answer: a filter may drop packets from this source or their replies; `routebind doctor` checks this host';
    case 'ENETDOWN': return 'the interface is down';
    case 'EPERM': return 'not permitted: pinning needs Linux >= 5.7 or CAP_NET_RAW; `routebind doctor` checks';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'the name does not resolve';
    default: return '';
  }
}

if (require.main === module) {
  const code = main(process.argv.slice(2));
  if (typeof code === 'number') process.exitCode = code;
  else void code.then((c) => { process.exitCode = c; });
}
