// routebind on a real Windows host (GitHub's windows runners; nothing here runs under Wine):
// lookups compared with what Windows itself answers (Find-NetRoute, Get-NetIPInterface through
// PowerShell), a loopback connect that describe() reports as strong-host, and watch() seeing a
// host route added and removed on the loopback interface (New-NetRoute / Remove-NetRoute, which
// need an administrator: the runners are one). Skipped, visibly, on every other OS.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';

const WINDOWS = process.platform === 'win32';

/** Runs a PowerShell script that prints one JSON document (ConvertTo-Json) and parses it. */
function ps<T>(script: string): T {
  const r = spawnSync('powershell.exe', ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', `$ErrorActionPreference = 'Stop'; ${script}`], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`powershell exited ${r.status ?? r.signal}: ${r.stderr || r.error?.message}\n${script}`);
  const text = r.stdout.trim();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

interface WindowsRoute {
  source: string;
  interface: string;
  ifindex: number;
  nextHop: string;
  prefix: string;
  metric: number;
}

/** What Windows picks for `destination`: Find-NetRoute's address and route objects, and the interface metric. */
function findNetRoute(destination: string): WindowsRoute {
  return ps<WindowsRoute>(`
    $found = @(Find-NetRoute -RemoteIPAddress '${destination}')
    $address = $found | Where-Object { $_.CimClass.CimClassName -eq 'MSFT_NetIPAddress' } | Select-Object -First 1
    $route = $found | Where-Object { $_.CimClass.CimClassName -eq 'MSFT_NetRoute' } | Select-Object -First 1
    $family = if ('${destination}'.Contains(':')) { 'IPv6' } else { 'IPv4' }
    $if = Get-NetIPInterface -InterfaceIndex $route.InterfaceIndex -AddressFamily $family
    [pscustomobject]@{
      source = [string]$address.IPAddress; interface = [string]$route.InterfaceAlias; ifindex = [int]$route.InterfaceIndex
      nextHop = [string]$route.NextHop; prefix = [string]$route.DestinationPrefix
      metric = [int]$route.RouteMetric + [int]$if.InterfaceMetric
    } | ConvertTo-Json -Compress`);
}

function weakHostSend(ifindex: number): boolean {
  return ps<string>(`(Get-NetIPInterface -InterfaceIndex ${ifindex} -AddressFamily IPv4).WeakHostSend.ToString() | ConvertTo-Json`) === 'Enabled';
}

function isAdministrator(): boolean {
  if (!WINDOWS) return false;
  return ps<boolean>(
    '([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator) | ConvertTo-Json',
  );
}

// Imported only on Windows: elsewhere this file must load (and skip) without the Windows addon.
const rb = WINDOWS ? await import('../../lib/index') : undefined;
const lib = () => rb as NonNullable<typeof rb>;

async function until<T>(what: string, probe: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!WINDOWS)(`route lookups agree with Find-NetRoute${WINDOWS ? '' : ' (skipped: Windows only)'}`, () => {
  it('routeTo(127.0.0.1): the loopback interface, source 127.0.0.1', () => {
    const ours = lib().routeTo('127.0.0.1');
    const theirs = findNetRoute('127.0.0.1');
    expect(ours).toMatchObject({ destination: '127.0.0.1', family: 4, interface: theirs.interface, ifindex: theirs.ifindex, source: '127.0.0.1' });
    expect(theirs.source).toBe('127.0.0.1');
    expect(ours.gateway).toBeUndefined();
  });

  it('routeTo(::1): the loopback interface, source ::1', () => {
    const ours = lib().routeTo('::1');
    const theirs = findNetRoute('::1');
    expect(ours).toMatchObject({ destination: '::1', family: 6, interface: theirs.interface, ifindex: theirs.ifindex, source: '::1' });
  });

  it('routeTo(a public address): the default route\'s interface, source, next hop and metric', () => {
    const ours = lib().routeTo('192.0.2.1');
    const theirs = findNetRoute('192.0.2.1');
    expect(theirs.prefix).toBe('0.0.0.0/0');
    expect({ interface: ours.interface, ifindex: ours.ifindex, source: ours.source, gateway: ours.gateway, metric: ours.metric }).toEqual({
      interface: theirs.interface,
      ifindex: theirs.ifindex,
      source: theirs.source,
      gateway: theirs.nextHop === '0.0.0.0' ? undefined : theirs.nextHop,
      metric: theirs.metric,
    });
    // os.networkInterfaces() names interfaces the same way (friendly names).
    expect(Object.keys(os.networkInterfaces())).toContain(ours.interface);
  });

  it('interfaces() lists the default route\'s interface with its source address', () => {
    const theirs = findNetRoute('192.0.2.1');
    const found = lib().interfaces().find((i) => i.name === theirs.interface);
    expect(found?.addresses.map((a) => a.address)).toContain(theirs.source);
  });
});

describe.skipIf(!WINDOWS)(`a connect through routebind${WINDOWS ? '' : ' (skipped: Windows only)'}`, () => {
  it('to a local server binds the routed source and reports how Windows keeps it (strong host)', async () => {
    const server = net.createServer((s) => s.end('pong'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const socket = lib().connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (d) => {
        data += d;
      });
      await new Promise((resolve, reject) => {
        socket.once('end', resolve);
        socket.once('error', reject);
      });
      const described = lib().describe(socket);
      const route = lib().routeTo('127.0.0.1');
      expect(data).toBe('pong');
      expect(described).toMatchObject({ destination: '127.0.0.1', source: '127.0.0.1', interface: route.interface, ifindex: route.ifindex });
      expect(described?.pinned).toBe(weakHostSend(route.ifindex as number) ? null : 'strong-host');
    } finally {
      server.close();
    }
  });
});

const ADMIN = isAdministrator();
const HOST_ROUTE = '198.51.100.77';

describe.skipIf(!ADMIN)(`watch() and the route cache see New-NetRoute / Remove-NetRoute${ADMIN ? '' : ' (skipped: needs Windows and an administrator)'}`, () => {
  afterAll(() => {
    if (ADMIN) ps(`Remove-NetRoute -DestinationPrefix '${HOST_ROUTE}/32' -Confirm:$false -ErrorAction SilentlyContinue; 'null'`);
  });

  it('reports the host route added on loopback and removed again, and routeTo follows', async () => {
    const loopback = lib().routeTo('127.0.0.1');
    const before = lib().routeTo(HOST_ROUTE);
    expect(before.interface).not.toBe(loopback.interface);

    const watcher = lib().watch({ family: 4, addresses: false, links: false });
    const events: { kind: string; action: string; destination?: string; interface?: string }[] = [];
    watcher.on('change', (e) => events.push(e as (typeof events)[number]));
    try {
      const added = Date.now();
      ps(`New-NetRoute -DestinationPrefix '${HOST_ROUTE}/32' -InterfaceIndex ${loopback.ifindex} -NextHop 0.0.0.0 -PolicyStore ActiveStore | Out-Null; 'null'`);
      const add = await until('the add event', () => events.find((e) => e.kind === 'route' && e.action === 'add' && e.destination === `${HOST_ROUTE}/32`));
      console.log(`New-NetRoute → 'change' add: ${Date.now() - added} ms (includes PowerShell's own run)`);
      expect(add.interface).toBe(loopback.interface);
      expect(lib().routeTo(HOST_ROUTE).interface).toBe(loopback.interface);

      const removed = Date.now();
      ps(`Remove-NetRoute -DestinationPrefix '${HOST_ROUTE}/32' -Confirm:$false; 'null'`);
      await until('the delete event', () => events.find((e) => e.kind === 'route' && e.action === 'delete' && e.destination === `${HOST_ROUTE}/32`));
      console.log(`Remove-NetRoute → 'change' delete: ${Date.now() - removed} ms`);
      expect(lib().routeTo(HOST_ROUTE).interface).toBe(before.interface);
    } finally {
      watcher.close();
    }
  });
});
