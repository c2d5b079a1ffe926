#!/usr/bin/env node
// `npm run demo`: the weak end-system failure of plain Node on a multi-homed host, and routebind
// fixing it, shown on a real (namespaced) host with two uplinks whose routers drop spoofed sources.
//
// As root it builds the topology of test/netns/two-uplinks.sh with its own namespace names. As any
// other user it re-runs itself inside a private user + network namespace, where it is root but can
// touch nothing outside. If neither is possible it says why and shows what routebind can tell
// about this host without sending anything (route lookups only). Traffic only ever flows between
// the namespaces the demo creates; everything is torn down on exit, error, Ctrl-C or SIGTERM.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.join(path.dirname(SELF), '..');
const DIST = path.join(ROOT, 'dist', 'index.js');
const TOPOLOGY = path.join(ROOT, 'test', 'netns', 'two-uplinks.sh');
const FIXTURES = path.join(ROOT, 'scripts', 'demo');

// The addresses two-uplinks.sh gives the host and the far server.
const FAR = { 4: '198.19.0.1', 6: 'fd00:99::1' };
const UPLINK = {
  ethA: { 4: '198.18.1.2', 6: 'fd00:a::2' },
  ethB: { 4: '198.18.2.2', 6: 'fd00:b::2' },
};
const PORT = 7000; // inside the far namespace only, so it cannot clash with anything on this host
const SERVER_PORT = 7100; // the host's servers (plain Node's, then routebind's on the next port)
const DROP_TIMEOUT_MS = 1500; // a dropped SYN is never answered; 1.5 s is plenty on veth links
const CONNECT_TIMEOUT_MS = 3000;

// Set when the demo re-runs itself inside a user namespace, so it does not try that again.
const IN_USERNS = 'ROUTEBIND_DEMO_IN_USERNS';
// The exit code with which the namespaced run tells its parent "no topology, show the fallback".
const EXIT_NO_TOPOLOGY = 75;

const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (text) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
const green = paint(32);
const red = paint(31);
const dim = paint(2);
const bold = paint(1);
const mark = (ok) => (ok ? green('✔') : red('✘'));
const WIDTH = 100; // every line the demo prints fits in 100 columns

/** Prints a line, wrapped at word boundaries to WIDTH columns; continuations indent 4 more. */
const say = (line = '') => {
  for (const l of String(line).split('\n')) console.log(wrapLine(l).join('\n'));
};

function wrapLine(line) {
  // A painted line is wrapped as plain text and each piece painted again.
  const painted = /^(\x1b\[\d+m)(.*)\x1b\[0m$/s.exec(line);
  const [open, text] = painted ? [painted[1], painted[2]] : ['', line];
  if (text.length <= WIDTH) return [line];
  const indent = ' '.repeat(/^ */.exec(text)[0].length + 4);
  const lines = [];
  let current = '';
  for (const word of text.split(/(?<=\S) (?=\S)/)) {
    if (current && current.length + 1 + word.length > WIDTH) {
      lines.push(current);
      current = indent + word.trimStart();
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push(current);
  return open ? lines.map((l) => `${open}${l}\x1b[0m`) : lines;
}

// ---------------------------------------------------------------------------------------------
// Which way the demo can run here: as root, inside a user namespace, or only as an explanation.
// main() is started at the end of the file, once every class and constant is defined.

async function main() {
  const routebind = loadRoutebind();
  if (routebind === undefined) return 1;

  if (!process.env[IN_USERNS]) {
    // The namespaced re-run shares our terminal: the title is already there.
    say(bold('routebind demo — strong end-system sockets on a host with two uplinks'));
    say();
  }
  if (process.platform !== 'linux') {
    explain(`This demo builds network namespaces, which only Linux has (this is ${process.platform}).`);
    return fallback(routebind);
  }
  if (spawnSync('ip', ['-V']).status !== 0) {
    explain('The demo builds its test host with iproute2, but the `ip` command is not installed (Debian/Ubuntu: apt-get install iproute2).');
    return fallback(routebind);
  }
  if (process.getuid() === 0) {
    const code = await runDemo();
    if (code !== EXIT_NO_TOPOLOGY) return code;
    // Inside our own user namespace the fallback would only see its empty network: the parent,
    // still on the real network, prints it instead.
    return process.env[IN_USERNS] ? EXIT_NO_TOPOLOGY : fallback(routebind);
  }
  if (process.env[IN_USERNS]) throw new Error('not root inside the user namespace: unshare --map-root-user did not take');

  const blocked = userNamespaceBlocker();
  if (blocked !== undefined) {
    explain(
      'Building the test host needs root. You are not root, so the demo tried to run itself as root inside a private user ' +
        `namespace (unshare --user --map-root-user --net --mount), and that is not possible here: ${blocked}`,
    );
    return fallback(routebind);
  }
  say(dim('Not root: running inside a private user + network namespace (root only in there; this host\'s network is untouched).'));
  const code = await runInUserNamespace();
  return code === EXIT_NO_TOPOLOGY ? fallback(routebind) : code;
}

/** The built package, or undefined after telling the user how to build it. */
function loadRoutebind() {
  const build = `Build it first:  npm run ${buildScript()}   (needs a C++ toolchain and the dev dependencies: npm ci)`;
  if (!existsSync(DIST)) {
    console.error(`The demo runs the built package, but ${path.relative(process.cwd(), DIST) || DIST} is missing.\n${build}`);
    return undefined;
  }
  try {
    return createRequire(import.meta.url)(DIST);
  } catch (error) {
    console.error(`dist/index.js does not load (${error.message}); the native addon is probably not built.\n${build}`);
    return undefined;
  }
}

/** The package's build script: named in package.json, so the hint stays right if it is renamed. */
function buildScript() {
  try {
    const { scripts = {} } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    return ['build', 'compile'].find((name) => scripts[name]) ?? 'build';
  } catch {
    return 'build';
  }
}

function explain(text) {
  say(`${bold('Why the full demo cannot run:')} ${text}`);
  say();
}

// ---------------------------------------------------------------------------------------------
// Running without real root: a private user namespace

// Runs as root of the new user namespace: `ip netns add` needs a writable /run/netns (and
// /var/run/netns), so both get a private tmpfs, visible only in this mount namespace.
const USERNS_PRELUDE = [
  'set -e',
  'mount -t tmpfs routebind-demo /run',
  'mkdir -p /run/netns',
  '[ /var/run -ef /run ] || mount -t tmpfs routebind-demo /var/run',
  'mkdir -p /var/run/netns',
  'exec "$@"',
].join('\n');
const UNSHARE = ['--user', '--map-root-user', '--net', '--mount'];

/** Why an unprivileged user namespace with netns support cannot be made here, or undefined. */
function userNamespaceBlocker() {
  const probe = spawnSync('unshare', [...UNSHARE, '/bin/sh', '-c', USERNS_PRELUDE, 'sh', 'ip', 'netns', 'add', 'rbdemo-probe'], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (probe.error?.code === 'ENOENT') return 'the `unshare` command (util-linux) is not installed.';
  if (probe.status === 0) return undefined;
  const detail = (probe.stderr || probe.error?.message || '').trim().split('\n')[0];
  const settings = userNamespaceSettings();
  if (settings.length > 0) return `unprivileged user namespaces are switched off on this machine (${settings.join('; ')}). (${detail})`;
  if (detail.startsWith('unshare:')) {
    return `the kernel refused to create a user namespace for this user — a container's seccomp profile, a security module, or running inside a chroot forbids it. (${detail})`;
  }
  return `the namespace could not be set up: ${detail}`;
}

/** The sysctls that commonly switch unprivileged user namespaces off, where they are set so. */
function userNamespaceSettings() {
  const read = (file) => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch {
      return undefined; // this kernel does not have that knob
    }
  };
  const found = [];
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0') found.push('kernel.unprivileged_userns_clone = 0');
  if (read('/proc/sys/user/max_user_namespaces') === '0') found.push('user.max_user_namespaces = 0');
  if (read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') {
    found.push('AppArmor restricts them: kernel.apparmor_restrict_unprivileged_userns = 1');
  }
  return found;
}

/** Re-runs this script as root of a private user namespace; resolves to its exit code. */
function runInUserNamespace() {
  return new Promise((resolve) => {
    const child = spawn('unshare', [...UNSHARE, '/bin/sh', '-c', USERNS_PRELUDE, 'sh', process.execPath, SELF], {
      stdio: 'inherit',
      env: { ...process.env, [IN_USERNS]: '1' },
    });
    // Ctrl-C reaches the child directly (same process group); a signal sent to us alone is passed
    // on so the child can tear down. The child's handlers are idempotent, so twice is harmless.
    const forward = (signal) => child.kill(signal);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal === 'SIGINT' ? 2 : 15)));
  });
}

// ---------------------------------------------------------------------------------------------
// Fallback: what routebind can say about this host without a test topology

function fallback(routebind) {
  const { formatRoute } = createRequire(import.meta.url)(path.join(ROOT, 'dist', 'cli.js'));
  say('Instead, here is what routebind reads from this host\'s kernel (route lookups only, nothing is sent):');
  say();
  try {
    const defaults = firstDefaultRoutes(routebind.routes());
    if (defaults.length === 0) say('  This host has no default route with a gateway.');
    for (const entry of defaults) {
      // A link-local gateway is only meaningful with its interface as the zone.
      const gateway = entry.gateway.startsWith('fe80:') && entry.interface ? `${entry.gateway}%${entry.interface}` : entry.gateway;
      say(dim(`  $ routebind get ${gateway}    # the IPv${entry.family} default route's gateway`));
      try {
        say(`  ${formatRoute(routebind.routeTo(gateway))}`);
      } catch (error) {
        say(`  ${error.code ?? 'error'}: ${error.message}`);
      }
    }
    say();
    say(dim('  $ routebind interfaces'));
    for (const i of routebind.interfaces()) {
      const addresses = i.addresses.map((a) => a.cidr).join(', ') || '(no addresses)';
      say(`  ${i.name.padEnd(10)} ${i.operstate.padEnd(8)} ${addresses}`);
    }
  } catch (error) {
    say(`  routebind could not read this host's routes: ${error.message}`);
  }
  say();
  say('Run the demo as root (sudo npm run demo), or where user namespaces are allowed, to see the two-uplink comparison.');
  return 0;
}

/** The first default route (prefix length 0, with a gateway) of each family, as routes() lists them. */
function firstDefaultRoutes(entries) {
  const out = [];
  for (const family of [4, 6]) {
    const entry = entries.find((e) => e.family === family && e.prefixLength === 0 && e.gateway !== undefined);
    if (entry) out.push(entry);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The demo proper (root, possibly only inside our user namespace)

async function runDemo() {
  const ipv6 = spawnSync('nft', ['--version']).status === 0;
  const topology = new Topology(`${process.pid}`, ipv6);
  const stop = (signal, code) => {
    say(`\n${signal}: tearing the demo's namespaces down…`);
    topology.down();
    process.exit(code);
  };
  // Not `once`: a second Ctrl-C while tearing down must not kill us half way.
  process.on('SIGINT', () => stop('SIGINT', 130));
  process.on('SIGTERM', () => stop('SIGTERM', 143));
  process.on('SIGHUP', () => stop('SIGHUP', 129));
  process.on('exit', () => topology.down()); // last resort; down() runs once

  try {
    if (!topology.up()) return EXIT_NO_TOPOLOGY;
    if (!ipv6) say(`${bold('Note:')} nftables (\`nft\`) is not installed, so the routers cannot drop spoofed IPv6 packets: showing IPv4 only.\n`);
    await topology.startFarServer();
    const results = await runScenarios(topology, scenarios(ipv6));
    const served = await runServerSection(topology, ipv6);
    return summarize([...results, ...served]);
  } finally {
    topology.down();
  }
}

/** The namespaces of one demo run, named after our pid, and the processes running inside them. */
class Topology {
  constructor(suffix, ipv6) {
    this.host = `rbdemo-h-${suffix}`;
    this.env = {
      ...process.env,
      HOST: this.host,
      ROUTER_A: `rbdemo-a-${suffix}`,
      ROUTER_B: `rbdemo-b-${suffix}`,
      FAR: `rbdemo-f-${suffix}`,
      POLICY: '0', // the demo needs no policy routing rules
      SPOOF6: ipv6 ? '1' : '0',
    };
    this.far = this.env.FAR;
    this.children = new Set();
    this.built = false;
    this.removed = false;
  }

  /** Builds the host, routers and far server; false (after saying why) when it cannot. */
  up() {
    const started = Date.now();
    this.built = true; // from here on, down() must run even if `up` fails half way
    const r = spawnSync('bash', [TOPOLOGY, 'up'], { env: this.env, encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0) {
      this.down();
      const detail = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').slice(-3).join(' / ');
      explain(`building the network namespaces failed (${detail}). This needs CAP_SYS_ADMIN and CAP_NET_ADMIN, which containers often withhold.`);
      return false;
    }
    say(`A host with two uplinks, built from network namespaces in ${Date.now() - started} ms (${this.host}, …):`);
    say(dim('         ethA 198.18.1.2 / fd00:a::2 ── router A ──┐'));
    say(dim('  host                                             ├── far server 198.19.0.1 / fd00:99::1'));
    say(dim('         ethB 198.18.2.2 / fd00:b::2 ── router B ──┘'));
    say(dim('  The default route leaves through ethA; a worse one (higher metric) through ethB.'));
    say(dim('  Both routers drop packets whose source address belongs behind the other router (reverse-path filter).'));
    say();
    say(`${bold('Weak end system:')} Linux picks the outgoing interface from the destination alone, so a socket bound to ethB's address can still leave through ethA, where router A drops it.`);
    say(`${bold('Pinning:')} routebind ties each socket to the interface that owns its source address (SO_BINDTODEVICE), so route, source and interface always agree.`);
    say();
    return true;
  }

  /** Starts a process inside a namespace; it is killed at teardown. Its stdin stays open as a lifeline. */
  spawn(ns, argv) {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** The far server, listening on both service addresses; resolves once it says "ready". */
  startFarServer() {
    const server = this.spawn(this.far, [process.execPath, path.join(FIXTURES, 'far-server.cjs'), JSON.stringify({ addresses: [FAR[4], FAR[6]], port: PORT })]);
    return new Promise((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`the far server did not start within 5 s: ${stderr}`)), 5000);
      server.stderr.on('data', (chunk) => (stderr += chunk));
      server.stdout.once('data', () => {
        clearTimeout(timer);
        resolve(server);
      });
      server.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the far server exited (${code}): ${stderr}`));
      });
    });
  }

  /** A TCP server on the host's wildcard (plain Node's or routebind's); resolves once it listens, with its log. */
  startHostServer(kind, port) {
    const server = this.spawn(this.host, [process.execPath, path.join(FIXTURES, 'host-server.cjs'), JSON.stringify({ kind, port })]);
    const lines = [];
    return new Promise((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`the ${kind} server did not start within 5 s: ${stderr}`)), 5000);
      server.stderr.on('data', (chunk) => (stderr += chunk));
      createInterface({ input: server.stdout }).on('line', (line) => {
        const entry = JSON.parse(line);
        if (entry.ready || entry.error) {
          clearTimeout(timer);
          if (entry.error) reject(new Error(`the ${kind} server could not listen: ${entry.error}`));
          else resolve({ process: server, lines });
        } else {
          lines.push(entry);
        }
      });
    });
  }

  /** Clients in the far namespace, one per address at once; resolves with one result per address. */
  farClients(targets, port, timeoutMs) {
    const client = this.spawn(this.far, [process.execPath, path.join(FIXTURES, 'far-clients.cjs'), JSON.stringify({ targets, port, timeoutMs })]);
    const results = [];
    return new Promise((resolve) => {
      createInterface({ input: client.stdout }).on('line', (line) => results.push(JSON.parse(line)));
      client.once('exit', () => resolve(targets.map((address) => results.find((r) => r.address === address) ?? { address, ok: false, error: { code: 'no result' } })));
    });
  }

  /** Ends every process we started and deletes the namespaces. Safe to call any number of times. */
  down() {
    if (!this.built || this.removed) return;
    this.removed = true;
    for (const child of this.children) child.kill('SIGKILL');
    spawnSync('bash', [TOPOLOGY, 'down'], { env: this.env, stdio: 'ignore', timeout: 10_000 });
  }
}

// ---------------------------------------------------------------------------------------------
// What is shown: for each section a route lookup as proof, then the connections

/**
 * Sections of steps for scripts/demo/client.cjs. A step with `expect` is a case in the summary:
 * `{ dropped: true }` (plain Node, sending ethB's address out of ethA) or `{ seen, pinnedTo? }`.
 */
function scenarios(ipv6) {
  const list = [tcpSection(4)];
  if (ipv6) list.push(tcpSection(6));
  list.push(udpSection(4));
  if (ipv6) list.push(udpSection(6));
  let id = 0;
  for (const section of list) for (const step of section.steps) step.id = id++;
  return list;
}

function tcpSection(family) {
  const far = FAR[family];
  const a = UPLINK.ethA[family];
  const b = UPLINK.ethB[family];
  const target = { host: far, port: PORT };
  const timeoutMs = CONNECT_TIMEOUT_MS;
  return {
    title: `IPv${family} TCP to ${hostPort(far)}`,
    name: `IPv${family} TCP`,
    steps: [
      { kind: 'route', destination: far, from: b },
      { kind: 'tcp', api: 'node', options: { ...target, localAddress: b }, timeoutMs: DROP_TIMEOUT_MS, expect: { dropped: true },
        what: `plain net.connect from ${b} (ethB's address)`, short: 'plain Node, from ethB\'s address' },
      { kind: 'tcp', api: 'routebind', options: { ...target, localAddress: b }, timeoutMs, expect: { seen: b, pinnedTo: 'ethB' },
        what: `routebind.connect from ${b}`, short: 'routebind, from ethB\'s address', showDescribe: true },
      { kind: 'tcp', api: 'routebind', options: target, timeoutMs, expect: { seen: a },
        what: 'routebind.connect with no options', short: 'routebind, no options' },
      { kind: 'tcp', api: 'routebind', options: { ...target, interface: 'ethB' }, timeoutMs, expect: { seen: b },
        what: "routebind.connect with interface: 'ethB'", short: "routebind, interface: 'ethB'" },
    ],
  };
}

function udpSection(family) {
  const far = FAR[family];
  const a = UPLINK.ethA[family];
  const b = UPLINK.ethB[family];
  const type = `udp${family}`;
  const target = { host: far, port: PORT, timeoutMs: CONNECT_TIMEOUT_MS };
  return {
    title: `IPv${family} UDP to ${hostPort(far)}`,
    name: `IPv${family} UDP`,
    steps: [
      { kind: 'route', destination: far, from: b },
      { kind: 'udp', api: 'node', socketOptions: { type }, bind: { address: b }, ...target, timeoutMs: DROP_TIMEOUT_MS, expect: { dropped: true },
        what: `plain dgram socket bound to ${b} (ethB's address)`, short: 'plain Node, from ethB\'s address' },
      { kind: 'udp', api: 'routebind', socketOptions: { type }, bind: { address: b }, ...target, expect: { seen: b, pinnedTo: 'ethB' },
        what: `routebind.createSocket bound to ${b}`, short: 'routebind, from ethB\'s address', showDescribe: true },
      { kind: 'udp', api: 'routebind', socketOptions: { type }, connect: true, ...target, expect: { seen: a },
        what: 'routebind.createSocket with no options', short: 'routebind, no options' },
      { kind: 'udp', api: 'routebind', socketOptions: { type, interface: 'ethB' }, connect: true, ...target, expect: { seen: b },
        what: "routebind.createSocket with interface: 'ethB'", short: "routebind, interface: 'ethB'" },
    ],
  };
}

/**
 * Runs every step in one client process inside the host namespace, narrating each result as it
 * arrives. Resolves to the cases: [{ section, step, result, ok }].
 */
async function runScenarios(topology, sections) {
  const steps = sections.flatMap((s) => s.steps.map(({ what, short, showDescribe, expect, ...wire }) => wire));
  const byId = new Map(sections.flatMap((section) => section.steps.map((step) => [step.id, { section, step }])));
  const client = topology.spawn(topology.host, [process.execPath, path.join(FIXTURES, 'client.cjs'), JSON.stringify(steps)]);
  let stderr = '';
  client.stderr.on('data', (chunk) => (stderr += chunk));
  const watchdog = setTimeout(() => client.kill('SIGKILL'), 30_000);

  const cases = [];
  let current;
  let route; // the latest route lookup, to explain why plain Node's packet vanished
  for await (const line of createInterface({ input: client.stdout })) {
    const result = JSON.parse(line);
    const { section, step } = byId.get(result.id);
    if (section !== current) {
      current = section;
      say(bold(section.title));
    }
    if (step.kind === 'route') {
      route = result;
      say(`  ${narrateRoute(step, result)}`);
      continue;
    }
    const ok = verdict(step, result);
    cases.push({ section, step, result, ok });
    say(`  ${narrate(step, result, route)}`);
    if (step.showDescribe && result.describe) say(dim(`      describe(socket) → ${inspect(compact(result.describe), { breakLength: Infinity })}`));
    if (step === section.steps.at(-1)) say();
  }
  clearTimeout(watchdog);
  await new Promise((resolve) => (client.exitCode !== null ? resolve() : client.once('exit', resolve)));
  if (client.exitCode !== 0) say(red(`The client in ${topology.host} failed (exit ${client.exitCode ?? client.signalCode}): ${stderr.trim()}`));

  // A step with no result (the client died) is a failed case.
  const seen = new Set(cases.map((c) => c.step));
  for (const section of sections) {
    for (const step of section.steps) {
      if (step.expect && !seen.has(step)) cases.push({ section, step, result: { ok: false, error: { code: 'no result' } }, ok: false });
    }
  }
  return cases;
}

function narrateRoute(step, r) {
  const call = `routeTo('${step.destination}', { from: '${step.from}' })`;
  if (!r.ok) return `${call} → ${r.error.code}: ${r.error.message}`;
  const consequence = r.interface === 'ethA' ? ' — a socket merely bound to ethB\'s address still leaves through ethA' : '';
  return `${call} → dev ${r.interface}${r.gateway ? ` via ${r.gateway}` : ''}${consequence}`;
}

/** One line of plain words about one connection. */
function narrate(step, r, route) {
  const unit = step.kind === 'tcp' ? 'answer' : 'reply';
  if (r.ok) {
    const how = step.kind === 'tcp' ? `connected in ${ms(r.connectMs)}` : `reply in ${ms(r.replyMs)}`;
    const seen = `the far server saw ${r.seen}${ownerSuffix(r.seen)}`;
    const pinned = r.describe ? `; ${r.describe.pinned ? `pinned to ${r.describe.interface} with ${r.describe.pinned}` : `not pinned (left through ${r.describe.interface})`}` : '';
    return `${step.what}: ${how}; ${seen}${pinned}`;
  }
  if (r.timedOut) {
    const why = step.expect?.dropped && route?.interface === 'ethA' ? ' — the kernel routed it out of ethA and router A dropped it as spoofed' : '';
    return `${step.what}: no ${unit} after ${seconds(r.elapsedMs)}${why}`;
  }
  return `${step.what}: failed with ${r.error.code}${r.error.message ? ` (${r.error.message})` : ''}`;
}

function verdict(step, r) {
  if (step.expect.dropped) return !r.ok && r.timedOut === true;
  if (!r.ok || r.seen !== step.expect.seen) return false;
  return step.expect.pinnedTo === undefined || (r.describe?.interface === step.expect.pinnedTo && r.describe?.pinned !== null);
}

/**
 * The server half: a TCP server on the host's wildcard, and a client in the far namespace that
 * reaches ethB's address. Plain Node's server answers with a SYN-ACK routed by destination, out of
 * ethA, which router A drops; routebind's listens per address, pinned, and answers through ethB.
 */
async function runServerSection(topology, ipv6) {
  const families = ipv6 ? [4, 6] : [4];
  const targets = families.map((f) => UPLINK.ethB[f]);
  say(bold(`TCP servers on the host, a far client asking ethB's address (${targets.join(', ')})`));
  say(dim('  The client\'s packets come in through ethB; the host\'s route back to the client leaves through ethA.'));
  const cases = [];
  for (const kind of ['plain', 'routebind']) {
    const port = kind === 'plain' ? SERVER_PORT : SERVER_PORT + 1;
    const call = `${kind === 'plain' ? 'net' : 'routebind'}.createServer().listen(${port})`;
    const server = await topology.startHostServer(kind, port);
    const results = await topology.farClients(targets, port, kind === 'plain' ? DROP_TIMEOUT_MS : CONNECT_TIMEOUT_MS);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the server's log lines
    server.process.kill();
    for (const r of results) {
      const family = r.address.includes(':') ? 6 : 4;
      const step = kind === 'plain'
        ? { short: 'plain Node server, client to ethB', expect: { dropped: true }, expectText: 'never answered, as expected (weak end system)' }
        : { short: 'routebind server, client to ethB', expect: { seen: r.address }, expectText: `answered from ${r.address} (ethB's address)` };
      const ok = kind === 'plain' ? !r.ok && r.timedOut === true : r.ok && r.seen === r.address;
      const log = server.lines.find((l) => l.to?.replace(/^::ffff:/, '') === r.address);
      let text;
      if (r.ok) {
        const where = log ? `; the server saw ${log.from.replace(/^::ffff:/, '')} and served it on ${log.interface ?? 'an unpinned listener'}${log.pinned ? ` (${log.pinned})` : ''}` : '';
        text = `${call}: ${r.address} answered in ${ms(r.connectMs ?? 0)}, from ${r.seen}${where}`;
      } else if (r.timedOut) {
        text = `${call}: ${r.address} never answered (${seconds(r.elapsedMs)}) — the SYN-ACK left through ethA, where router A dropped it as spoofed`;
      } else {
        text = `${call}: ${r.address} failed with ${r.error.code}`;
      }
      say(`  ${text}`);
      cases.push({ section: { name: `IPv${family} TCP` }, step, result: { ...r, server: true }, ok });
    }
  }
  say();
  return cases;
}

/** The per-case summary and the exit code: 0 when every case behaved as expected. */
function summarize(cases) {
  say(bold('Summary'));
  const width = Math.max(...cases.map((c) => c.step.short.length));
  for (const { section, step, result, ok } of cases) {
    const expected = step.expectText ?? (step.expect.dropped ? 'dropped, as expected (weak end system)' : `arrived from ${step.expect.seen}${ownerSuffix(step.expect.seen)}`);
    const got = ok ? expected : `expected ${step.expect.dropped ? 'a drop' : step.expect.seen}, got ${outcome(result)}`;
    say(`  ${mark(ok)} ${section.name.padEnd(9)} ${step.short.padEnd(width)}  ${got}`);
  }
  const failed = cases.filter((c) => !c.ok).length;
  say();
  if (failed === 0) {
    say(green(`All ${cases.length} cases as expected: plain Node's packets from ethB's address were dropped; every routebind socket left through the interface that owns its source address, and arrived; routebind's server answered the client that asked ethB's address, plain Node's never did.`));
    return 0;
  }
  say(red(`${failed} of ${cases.length} cases did not behave as expected.`));
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Small formatting helpers

function outcome(r) {
  if (r.ok) return r.server ? `an answer from ${r.seen}` : `the far server saw ${r.seen}`;
  if (r.timedOut) return 'no answer';
  return r.error?.code ?? 'an error';
}

function ownerSuffix(address) {
  for (const [name, addresses] of Object.entries(UPLINK)) if (Object.values(addresses).includes(address)) return ` (${name}'s address)`;
  return '';
}

function compact(description) {
  const { interface: iface, source, pinned, gateway } = description;
  return { interface: iface, source, pinned, ...(gateway ? { gateway } : {}) };
}

function hostPort(address) {
  return address.includes(':') ? `[${address}]:${PORT}` : `${address}:${PORT}`;
}

function ms(value) {
  return value < 1 ? 'under 1 ms' : `${Math.round(value)} ms`;
}

function seconds(value) {
  return `${(value / 1000).toFixed(1)} s`;
}

// ---------------------------------------------------------------------------------------------

const exitCode = await main().catch((error) => {
  console.error(red(`demo failed: ${error.stack ?? error}`));
  return 1;
});
process.exit(exitCode);
