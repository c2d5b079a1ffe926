#!/usr/bin/env node
// `routebind` command line: the library's answers in the shape `ip` prints them, or JSON.
import { parseArgs } from 'node:util';

import { isSystemError } from './errors';
import { interfaces, type NetworkInterface } from './interfaces';
import { routes, routeTo, type Route, type RouteEntry, type RouteQuery } from './route';

interface Command {
  usage: string;
  summary: string;
  options: NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  run(positionals: string[], values: Record<string, string | boolean | undefined>): number;
}

const EXIT_USAGE = 64; // EX_USAGE
const EXIT_FAILURE = 1;

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
  if (r.source) parts.push('src', r.source);
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
  if (e.source) parts.push('src', e.source);
  if (e.metric !== undefined) parts.push('metric', String(e.metric));
  for (const hop of e.nexthops ?? []) parts.push('\n\tnexthop', ...(hop.gateway ? ['via', hop.gateway] : []), 'dev', hop.interface ?? String(hop.ifindex), 'weight', String(hop.weight));
  return parts.join(' ');
}

function formatInterface(i: NetworkInterface): string {
  const lines = [`${i.index}: ${i.name}: <${i.flags.join(',')}> mtu ${i.mtu} state ${i.operstate}`];
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

class UsageError extends Error {}
function usage(message: string): UsageError {
  return new UsageError(message);
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
};

function help(): string {
  const lines = ['routebind — which route, interface and source the kernel uses, and sockets that keep them together', '', 'Commands:'];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(11)} ${c.summary}`, `              ${c.usage}`);
  lines.push('', 'Exit codes: 0 success, 1 a system error (its code is printed), 64 bad usage.');
  return lines.join('\n');
}

export function main(argv: string[]): number {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`routebind: unknown command '${name}'\n\n${help()}`);
    return EXIT_USAGE;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    if (values.help) {
      console.log(`${command.usage}\n\n${command.summary}`);
      return 0;
    }
    return command.run(positionals, values as Record<string, string | boolean | undefined>);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`routebind ${name}: ${(error as Error).message}\n${command.usage}`);
      return EXIT_USAGE;
    }
    const code = (error as { code?: string }).code ?? 'ERROR';
    const hint = isSystemError(error) ? hintFor(error.code) : '';
    console.error(`routebind ${name}: ${code}: ${(error as Error).message}${hint ? `\n  hint: ${hint}` : ''}`);
    return EXIT_FAILURE;
  }
}

function hintFor(code: string): string {
  switch (code) {
    case 'ENETUNREACH': return 'no route leaves for that destination (through that interface); check `routebind routes`';
    case 'EHOSTUNREACH': return 'the route table marks that destination unreachable';
    case 'ENODEV': return 'no such interface; `routebind interfaces` lists them';
    case 'EACCES': return 'a prohibit route covers that destination';
    case 'EINVAL': return 'a blackhole route covers that destination, or the options contradict each other';
    default: return '';
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
