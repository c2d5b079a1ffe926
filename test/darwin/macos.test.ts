// The macOS backend on a real Mac (GitHub's macOS runners): lookups compared with `route -n get`,
// routes() and interfaces() with what the system lists, a connection pinned to lo0 with IP_BOUND_IF,
// and watch() seeing a host route on lo0 added and deleted with `sudo route` (the runners have
// passwordless sudo; elsewhere that part is skipped, saying why). Skipped, saying so, on other OSes.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';

import { native } from '../../lib/binding';
import * as rb from '../../lib/index';

const onMac = process.platform === 'darwin';
const sudo = onMac && spawnSync('sudo', ['-n', 'true']).status === 0;

/** `route -n get [-inet6] DEST` as key → value ("interface" → "en0"), or undefined when not in table. */
function routeGet(destination: string): Record<string, string> | undefined {
  const args = ['-n', 'get', ...(destination.includes(':') ? ['-inet6'] : []), destination];
  const r = spawnSync('route', args, { encoding: 'utf8' });
  if (r.status !== 0) {
    expect(r.stderr).toMatch(/not in table/);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([a-z ]+):\s*(.*)$/.exec(line);
    if (m) out[m[1].trim()] = m[2].trim();
  }
  return out;
}

function sudoRoute(...args: string[]) {
  const r = spawnSync('sudo', ['-n', 'route', '-n', ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

describe.skipIf(!onMac)(`the macOS backend${onMac ? '' : ` (skipped: needs macOS, this is ${process.platform})`}`, () => {
  it('is the darwin addon, pinning with IP_BOUND_IF', () => {
    // native() is the loaded addon (native itself is the accessor function).
    const binding = native() as unknown as Record<string, unknown>;
    expect(binding.platform).toBe('darwin');
    expect(binding.pinMechanism).toBe('IP_BOUND_IF');
  });

  for (const destination of ['127.0.0.1', '::1']) {
    it(`looks up ${destination} as route -n get does: through lo0`, () => {
      const system = routeGet(destination);
      expect(system?.interface).toBe('lo0');
      const route = rb.routeTo(destination, { cache: false });
      expect(route.interface).toBe('lo0');
      expect(route.family).toBe(destination.includes(':') ? 6 : 4);
    });
  }

  for (const destination of ['192.0.2.1', '2001:db8::1']) {
    it(`looks up ${destination} (the default route, if any) as route -n get does: interface and gateway, or unreachable`, () => {
      const system = routeGet(destination);
      if (system === undefined) {
        expect(() => rb.routeTo(destination, { cache: false })).toThrow(expect.objectContaining({ code: 'ENETUNREACH' }));
        return;
      }
      const route = rb.routeTo(destination, { cache: false });
      expect(route.interface).toBe(system.interface);
      // route(8) prints an on-link route's gateway as the interface ("link#4"); routebind has none then.
      if (system.gateway !== undefined && !system.gateway.startsWith('link#')) expect(route.gateway).toBe(system.gateway);
      expect(route.source).toBeDefined();
      // The source a connected UDP socket gets is the one the lookup promised.
      const owner = rb.interfaces().find((i) => i.name === route.interface);
      expect(owner?.addresses.map((a) => a.address)).toContain(route.source);
    });
  }

  it('a lookup scoped to lo0 for an address lo0 does not reach is ENETUNREACH, as on Linux', () => {
    expect(() => rb.routeTo('192.0.2.1', { interface: 'lo0', cache: false })).toThrow(expect.objectContaining({ code: 'ENETUNREACH' }));
    expect(rb.routeTo('127.0.0.1', { interface: 'lo0', cache: false }).interface).toBe('lo0');
  });

  it('refuses the options macOS routing does not have', () => {
    for (const options of [{ mark: 1 }, { uid: 0 }, { tos: 16 }, { iif: 'lo0' }, { sourcePort: 1000 }]) {
      expect(() => rb.routeTo('127.0.0.1', options), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'ERR_ROUTEBIND_UNSUPPORTED_OPTION' }));
    }
  });

  it('routes() lists both families, with the default route route -n get shows', () => {
    const entries = rb.routes();
    expect(entries.some((e) => e.family === 4)).toBe(true);
    expect(entries.some((e) => e.family === 6)).toBe(true);
    expect(entries).toContainEqual(expect.objectContaining({ destination: '127.0.0.1/32', interface: 'lo0' }));
    const system = routeGet('default');
    if (system?.gateway !== undefined && !system.gateway.startsWith('link#')) {
      expect(entries).toContainEqual(expect.objectContaining({ destination: '0.0.0.0/0', gateway: system.gateway }));
    }
  });

  it('interfaces() agrees with os.networkInterfaces(): names, addresses, link-local zones', () => {
    const ours = rb.interfaces();
    const lo0 = ours.find((i) => i.name === 'lo0');
    expect(lo0?.flags).toEqual(expect.arrayContaining(['up', 'loopback']));
    expect(lo0?.addresses.map((a) => a.address)).toEqual(expect.arrayContaining(['127.0.0.1', '::1', 'fe80::1%lo0']));
    for (const [name, list] of Object.entries(os.networkInterfaces())) {
      const mine = ours.find((i) => i.name === name);
      expect(mine, name).toBeDefined();
      for (const a of list ?? []) {
        const address = a.family === 'IPv6' && a.scopeid ? `${a.address.split('%')[0]}%${name}` : a.address;
        expect(mine!.addresses.map((x) => x.address), `${name} ${address}`).toContain(address);
        const cidrBits = Number(a.cidr?.split('/')[1]);
        expect(mine!.addresses.find((x) => x.address === address)?.prefixLength, `${name} ${address}`).toBe(cidrBits);
      }
    }
  });

  it('connects to a local server pinned to lo0 (IP_BOUND_IF), and the bytes arrive', async () => {
    const server = net.createServer((s) => s.end('pong')).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as net.AddressInfo;
      const socket = rb.connect({ port, host: '127.0.0.1', interface: 'lo0' });
      const data = await new Promise<string>((resolve, reject) => {
        let got = '';
        socket.on('data', (d) => { got += d; }).on('end', () => resolve(got)).on('error', reject);
      });
      expect(data).toBe('pong');
      expect(rb.describe(socket)).toMatchObject({ interface: 'lo0', pinned: 'IP_BOUND_IF', source: '127.0.0.1' });
    } finally {
      server.close();
    }
  });

  describe.skipIf(!sudo)(`watch() and route changes${sudo ? '' : ' (skipped: needs passwordless sudo for route add)'}`, () => {
    const host = '192.0.2.77';
    afterAll(() => {
      sudoRoute('delete', '-host', host);
    });

    it(`sees \`route add -host ${host} -interface lo0\` and its delete; lookups follow at once`, async () => {
      // The interface the host is reached through now (none without a default route); cached from here on.
      const lookUp = () => {
        try {
          return rb.routeTo(host).interface;
        } catch (error) {
          expect((error as NodeJS.ErrnoException).code).toBe('ENETUNREACH');
          return undefined;
        }
      };
      const before = lookUp();
      expect(before).not.toBe('lo0');
      const watcher = rb.watch({ family: 4 });
      const events: Array<{ action: string; destination: string; interface?: string }> = [];
      const seen = (action: string) => new Promise<void>((resolve) => {
        const check = () => {
          if (events.some((e) => e.action === action && e.destination === `${host}/32`)) resolve();
          else setTimeout(check, 20);
        };
        check();
      });
      watcher.on('change', (e) => {
        if (e.kind === 'route') events.push({ action: e.action, destination: e.destination, interface: e.interface });
      });
      try {
        const add = sudoRoute('add', '-host', host, '-interface', 'lo0');
        expect(add.ok, add.output).toBe(true);
        await seen('add');
        expect(events.find((e) => e.action === 'add')?.interface).toBe('lo0');
        // The cache learnt of the change on the routing socket: no stale answer.
        expect(lookUp()).toBe('lo0');

        const del = sudoRoute('delete', '-host', host);
        expect(del.ok, del.output).toBe(true);
        await seen('delete');
        expect(lookUp()).toBe(before);
      } finally {
        watcher.close();
      }
    }, 20_000);
  });
});
