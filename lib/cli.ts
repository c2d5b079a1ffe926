#!/usr/bin/env node
// `routebind` command line: the library's answers in the shape `ip` prints them (or JSON), change events,
// a connect check that shows routebind's decision, and a doctor for the host's multi-homing risks.
import './cli-startup'; // first: a missing addon ends the CLI with one line, not a stack trace
import * as dns from 'node:dns';
import { isIP, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

import { doctor, type DoctorReport } from './doctor';
import { systemError } from './errors';
import { interfaces, type NetworkInterface } from './interfaces';
import { routes, routeTo, type Route, type RouteEntry, type RouteQuery } from './route';
import { createSocket } from './dgram';
import { describe, type SocketDescription } from './describe';
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

export function formatRoute(r: Route): string {
  const parts: string[] = [];
  if (r.type !== 'unicast') parts.push(r.type);
  parts.push(r.destination);
  if (r.from) parts.push('from', r.from);
  if (r.gateway) parts.push('via', r.gateway);
  if (r.interface) parts.push('dev', r.interface);
  parts.push('table', tableName(r.table));
  if (r.preferredSource) parts.push('src', r.preferredSource);
  if (r.metric !== undefined) parts.push('metric', String(r.metric));
  if (r.mtu !== undefined) parts.push('mtu', String(r.mtu));
  if (r.mark !== undefined) parts.push('mark', `0x${r.mark.toString(16)}`);
  if (r.uid !== undefined) parts.push('uid', String(r.uid));
  return parts.join(' ');
}

export function formatEntry(e: RouteEntry): string {
  const parts: string[] = [];
  if (e.type !== 'unicast') parts.push(e.type);
  parts.push(e.prefixLength === 0 ? 'default' : e.destination);
  if (e.sourcePrefix) parts.push('from', e.sourcePrefix);
  if (e.gateway) parts.push('via', e.gateway);
  if (e.interface) parts.push('dev', e.interface);
  if (e.table !== 254) parts.push('table', tableName(e.table));
  if (e.protocol !== 'boot' && e.protocol !== 'unspec') parts.push('proto', e.protocol);
  if (e.scope !== 'global') parts.push('scope', String(e.scope));
  if (e.preferredSource) parts.push('src', e.preferredSource);
  if (e.metric !== undefined) parts.push('metric', String(e.metric));
  for (const hop of e.nexthops ?? []) parts.push('\n\tnexthop', ...(hop.gateway ? ['via', hop.gateway] : []), 'dev', hop.interface ?? String(hop.ifindex), 'weight', String(hop.weight));
  return parts.join(' ');
}

function formatInterface(i: NetworkInterface): string {
  const lines = [`${i.ifindex}: ${i.name}: <${i.flags.join(',')}> mtu ${i.mtu} state ${i.operstate}`];
  if (i.mac) lines.push(`    link ${i.mac}`);
  for (const a of i.addresses) {
    lines.push(`    inet${a.family === 6 ? '6' : ''} ${a.cidr}${a.peer ? ` peer ${a.peer}` : ''} scope ${a.scope}${a.flags.length ? ` ${a.flags.join(' ')}` : ''}`);
  }
  return lines.join('\n');
}

function integer(name: string, value: string | boolean | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isInteger(n)) throw usage(`--${name} takes an integer (got ${String(value)})`);
  return n;
}

class UsageError extends Error {
  readonly code = 'ERR_USAGE';
}
function usage(message: string): UsageError {
  return new UsageError(message);
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
  return `${SIGN[e.action]} link ${e.name} <${e.flags.join(',')}> mtu ${e.mtu} state ${e.operstate}`;
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
// connect

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

async function connectTcp(host: string, port: number, routing: { interface?: string | number; localAddress?: string }, timeoutMs: number, outcome: ConnectOutcome): Promise<Socket> {
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

async function connectUdp(host: string, port: number, routing: { interface?: string | number; localAddress?: string }, timeoutMs: number, outcome: ConnectOutcome): Promise<void> {
  let address = host;
  if (isIP(host.split('%')[0]) === 0) {
    // Resolved here: dgram would resolve a name itself and skip routebind's decision.
    const localFamily = routing.localAddress !== undefined ? isIP(routing.localAddress) : 0;
    address = (await dns.promises.lookup(host, { family: localFamily === 4 || localFamily === 6 ? localFamily : 0 })).address;
    outcome.resolved.push(address);
  }
  const family = isIP(address.split('%')[0]) === 6 ? 6 : 4;
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ...(routing.interface !== undefined ? { interface: routing.interface } : {}) });
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

async function runConnect(target: string, routing: { interface?: string | number; localAddress?: string }, udp: boolean, timeoutMs: number, json: boolean): Promise<number> {
  const { host, port } = parseHostPort(target);
  const protocol = udp ? 'udp' : 'tcp';
  const outcome: ConnectOutcome = { ok: false, protocol, host, port, resolved: [], elapsedMs: 0 };
  const started = performance.now();
  let failure: unknown;
  try {
    if (udp) await connectUdp(host, port, routing, timeoutMs, outcome);
    else await closeGently(await connectTcp(host, port, routing, timeoutMs, outcome));
    outcome.ok = true;
  } catch (error) {
    failure = error;
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
    usage: 'routebind get <destination> [--from ADDR] [--interface IF] [--iif IF] [--mark N] [--uid N] [--tos N] [--json]',
    summary: 'the route the kernel uses for a destination (like `ip route get`)',
    options: {
      from: { type: 'string' }, interface: { type: 'string', short: 'i' }, iif: { type: 'string' },
      mark: { type: 'string' }, uid: { type: 'string' }, tos: { type: 'string' }, json: { type: 'boolean' },
    },
    run(positionals, v) {
      if (positionals.length !== 1) throw usage('get takes exactly one destination');
      const query: RouteQuery = {};
      if (typeof v.from === 'string') query.from = v.from;
      if (typeof v.interface === 'string') query.interface = v.interface;
      if (typeof v.iif === 'string') query.iif = v.iif;
      const mark = integer('mark', v.mark);
      if (mark !== undefined) query.mark = mark;
      const uid = integer('uid', v.uid);
      if (uid !== undefined) query.uid = uid;
      const tos = integer('tos', v.tos);
      if (tos !== undefined) query.tos = tos;
      const route = routeTo(positionals[0], query);
      console.log(v.json ? JSON.stringify(route, null, 2) : formatRoute(route));
      return 0;
    },
  },
  interfaces: {
    usage: 'routebind interfaces [--json]',
    summary: 'interfaces and their addresses (like `ip addr`)',
    options: { json: { type: 'boolean' } },
    run(_p, v) {
      const list = interfaces();
      console.log(v.json ? JSON.stringify(list, null, 2) : list.map(formatInterface).join('\n'));
      return 0;
    },
  },
  routes: {
    usage: 'routebind routes [--table T|all] [--family 4|6] [--json]',
    summary: 'routing table entries (like `ip route show table all`)',
    options: { table: { type: 'string' }, family: { type: 'string' }, json: { type: 'boolean' } },
    run(_p, v) {
      const table = v.table === undefined || v.table === 'all' || v.table === 'main' || v.table === 'local' || v.table === 'default'
        ? (v.table as 'all' | 'main' | 'local' | 'default' | undefined)
        : integer('table', v.table);
      const family = integer('family', v.family);
      if (family !== undefined && family !== 4 && family !== 6) throw usage('--family takes 4 or 6');
      const list = routes({ ...(table !== undefined ? { table } : {}), ...(family !== undefined ? { family } : {}) });
      console.log(v.json ? JSON.stringify(list, null, 2) : list.map(formatEntry).join('\n'));
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
      '  ~ link ethB <up,broadcast,running,multicast,lower-up> mtu 1500 state up',
      '--json prints each event as one JSON object per line (`kind`, `action` and the entry).',
      'Runs until Ctrl-C (exit 0). A line on stderr says when it is listening.',
    ].join('\n'),
    options: { family: { type: 'string' }, json: { type: 'boolean' } },
    run(positionals, v) {
      if (positionals.length !== 0) throw usage('watch takes no arguments');
      const family = integer('family', v.family);
      if (family !== undefined && family !== 4 && family !== 6) throw usage('--family takes 4 or 6');
      return runWatch(family as 4 | 6 | undefined, v.json === true);
    },
  },
  connect: {
    usage: 'routebind connect <host:port> [--interface IF] [--local-address ADDR] [--udp] [--timeout MS] [--json]',
    summary: 'open a connection as routebind does, show its route, source, interface and pin, and the outcome (like `nc -vz`)',
    details: [
      'host:port takes an IPv4 address, a name, or an IPv6 address in brackets: [fd00::1]:443.',
      '  --interface, -i IF         leave through IF and send from its address',
      '  --local-address, -s ADDR   send from ADDR, through the interface that owns it',
      '  --udp, -u                  a UDP socket: bound, pinned and connected; nothing is sent',
      '  --timeout, -w MS           give up after MS milliseconds (default 10000; 0 waits forever)',
      '  --json                     the decision and the outcome as one JSON object',
      'Nothing is sent but the TCP handshake; the connection is closed at once.',
      'Exit codes: 0 connected, 1 failed (the error code is printed), 64 bad usage.',
    ].join('\n'),
    options: {
      interface: { type: 'string', short: 'i' }, 'local-address': { type: 'string', short: 's' },
      udp: { type: 'boolean', short: 'u' }, timeout: { type: 'string', short: 'w' }, json: { type: 'boolean' },
    },
    run(positionals, v) {
      if (positionals.length !== 1) throw usage('connect takes exactly one host:port');
      const timeout = integer('timeout', v.timeout) ?? 10_000;
      if (timeout < 0) throw usage('--timeout takes milliseconds, 0 or more');
      const routing: { interface?: string | number; localAddress?: string } = {};
      const iface = interfaceArg(v.interface);
      if (iface !== undefined) routing.interface = iface;
      if (typeof v['local-address'] === 'string') routing.localAddress = v['local-address'];
      return runConnect(positionals[0], routing, v.udp === true, timeout, v.json === true);
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
      const report = doctor(positionals);
      console.log(v.json ? JSON.stringify(report, null, 2) : formatReport(report));
      return report.ok ? 0 : EXIT_RISKS;
    },
  },
};

function help(): string {
  const lines = ['routebind — which route, interface and source the kernel uses, and sockets that keep them together', '', 'Commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(11)} ${c.summary}`, `              ${c.usage}`);
  lines.push(
    '',
    '`routebind <command> --help` describes a command.',
    `Exit codes: 0 success (doctor: no risks), 1 a system error (its code is printed), ${EXIT_RISKS} doctor found risks, 64 bad usage.`,
  );
  return lines.join('\n');
}

function isUsageError(error: unknown): boolean {
  return error instanceof UsageError || (typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('ERR_PARSE_ARGS'));
}

/** An error as one line: who, the code, what happened, and a hint when there is one. */
function errorLine(name: string, error: unknown, hint?: string): string {
  const code = (error as { code?: unknown })?.code;
  const message = String((error as Error)?.message ?? error).replace(/\s*\n\s*/g, ' ');
  const h = hint ?? (typeof code === 'string' ? hintFor(code) : '');
  return `routebind${name ? ` ${name}` : ''}: ${typeof code === 'string' ? code : 'ERROR'}: ${message}${h ? ` (hint: ${h})` : ''}`;
}

function failed(name: string, command: Command, error: unknown): number {
  if (isUsageError(error)) {
    console.error(errorLine(name, error, `usage: ${command.usage}`));
    return EXIT_USAGE;
  }
  console.error(errorLine(name, error));
  return EXIT_FAILURE;
}

/** Runs one command line; a number, or a Promise of one for commands that wait (watch, connect). */
export function main(argv: string[]): number | Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
  if (command === undefined) {
    console.error(errorLine('', usage(`unknown command '${name}'`), `commands are ${Object.keys(commands).join(', ')}; \`routebind --help\` explains them`));
    return EXIT_USAGE;
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

function hintFor(code: string): string {
  switch (code) {
    case 'ENETUNREACH': return 'no route leaves for that destination (through that interface); check `routebind routes`';
    case 'EHOSTUNREACH': return 'the route table marks that destination unreachable, or no neighbour answered';
    case 'ENODEV': return 'no such interface; `routebind interfaces` lists them';
    case 'EACCES': return 'a prohibit route covers that destination';
    case 'EINVAL': return 'a blackhole route covers that destination, or the options contradict each other';
    case 'EADDRNOTAVAIL': return '`routebind interfaces` lists the addresses of this host and their interfaces';
    case 'ECONNREFUSED': return 'the destination answered with a reset: nothing listens on that port';
    case 'ETIMEDOUT': return 'no answer: a filter may drop packets from this source or their replies; `routebind doctor` checks this host';
    case 'ENETDOWN': return 'the interface is down';
    case 'EPERM': return 'not permitted: pinning needs Linux >= 5.7 or CAP_NET_RAW; `routebind doctor` checks';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'the name does not resolve';
    case 'ERR_INVALID_IP_ADDRESS': return 'give an IPv4 or IPv6 address literal, e.g. 192.0.2.1 or fe80::1%eth0';
    default: return '';
  }
}

if (require.main === module) {
  const code = main(process.argv.slice(2));
  if (typeof code === 'number') process.exitCode = code;
  else void code.then((c) => { process.exitCode = c; });
}
