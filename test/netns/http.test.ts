// routebind's HTTP agents and undici connector against real Node http/https servers in the far
// namespace: which uplink each request leaves through, TLS verification over routebind sockets,
// keep-alive pooling as Node's own agent pools, and pooled sockets whose uplink went down.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { buildTwoUplinkHost, namespaceSupport, ROOT, type Topology } from './topology';

interface Seen {
  address: string;
  port: number;
  servername: string | null;
  alpn: string | null;
  path: string;
}
interface ErrorShape {
  name: string;
  code?: string;
  message: string;
  address?: string;
  cause?: ErrorShape;
}
interface Result {
  ok: boolean;
  seen?: Seen;
  reused?: boolean;
  error?: ErrorShape;
}
interface AgentOutcome {
  results: Result[];
  described: Array<{ source: string; interface?: string; pinned: string | null } | undefined>;
  policyCalls: Array<{ host: string; port: number; protocol: string }>;
  thrown?: ErrorShape;
}
interface UndiciOutcome extends Result {
  policyCalls: AgentOutcome['policyCalls'];
  thrown?: ErrorShape;
}
interface FlapOutcome {
  first: Result;
  second: Result;
  flap: { outcome: string; ms: number };
  destroyedAtOnce?: boolean;
  freeAfter?: number;
  thrown?: ErrorShape;
}

const HTTP_PORT = 8080;
const HTTPS_PORT = 8443;
const requireFromRoot = createRequire(path.join(ROOT, 'package.json'));

const unsupported = namespaceSupport();
const noOpenssl = spawnSync('openssl', ['version']).status === 0 ? undefined : '`openssl` is not installed, so there is no certificate for the https server';
const noUndici = (() => {
  try {
    requireFromRoot.resolve('undici');
    return undefined;
  } catch {
    return 'the undici dev dependency is not installed';
  }
})();

describe('agent options are checked before any connection', () => {
  const routebind = requireFromRoot('./dist/index.js') as typeof import('../../lib/index');
  it('throws typed errors for bad routing options and policies', () => {
    expect(() => new routebind.Agent({ interface: 1.5 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => new routebind.Agent({ interface: 'no/such' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => new routebind.HttpsAgent({ localAddress: '198.18.2' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_IP_ADDRESS' }));
    expect(() => new routebind.HttpsAgent({ pin: 'yes' as unknown as boolean })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => new routebind.Agent({ policy: 'ethB' as unknown as () => undefined })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' }));
    expect(() => routebind.connector({ mark: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' }));
    expect(() => routebind.connector({ timeout: 'soon' as unknown as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => routebind.connector(null as unknown as undefined)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    const agent = new routebind.Agent({ keepAlive: true, maxSockets: 2, interface: 'ethB' });
    expect(agent).toBeInstanceOf(http.Agent);
    expect(agent.keepAlive).toBe(true);
    expect(agent.maxSockets).toBe(2);
    expect(new routebind.HttpsAgent()).toBeInstanceOf(https.Agent);
    agent.destroy();
  });
});

describe.skipIf(unsupported !== undefined)(`HTTP over routebind sockets in namespaces${unsupported ? ` (skipped: ${unsupported})` : ''}`, () => {
  let t: Topology;
  let certDir: string;
  let caFile: string | undefined;
  const httpUrl = (family: 4 | 6) => `http://${family === 4 ? t.farV4 : `[${t.farV6}]`}:${HTTP_PORT}/`;
  const httpsUrl = (family: 4 | 6) => `https://${family === 4 ? t.farV4 : `[${t.farV6}]`}:${HTTPS_PORT}/`;
  const client = <T>(scenarios: object[]) => t.node<T[]>(t.host, 'http-client.cjs', scenarios, { timeoutMs: 90_000 });
  const agentRun = (scenarios: object[]) => {
    const out = client<AgentOutcome>(scenarios.map((s) => ({ kind: 'agent', ...s })));
    for (const o of out) expect(o.thrown, JSON.stringify(o.thrown)).toBeUndefined();
    return out;
  };
  const undiciRun = (scenarios: object[]) => client<UndiciOutcome>(scenarios.map((s) => ({ kind: 'undici', ...s })));
  const seenBy = (o: AgentOutcome) => o.results.map((r) => (r.ok ? r.seen!.address : `error ${r.error?.code ?? r.error?.message}`));

  beforeAll(async () => {
    certDir = mkdtempSync(path.join(tmpdir(), 'routebind-http-'));
    if (noOpenssl === undefined) {
      // Self-signed, for the far server's name and both its addresses: verification is real.
      const r = spawnSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
        '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem'), '-subj', '/CN=far.test',
        '-addext', 'subjectAltName=DNS:far.test,IP:198.19.0.1,IP:fd00:99:0:0:0:0:0:1',
      ], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
      caFile = path.join(certDir, 'cert.pem');
    }
    t = buildTwoUplinkHost({ policyRules: false });
    const server = t.spawn(t.far, [process.execPath, 'test/netns/fixtures/http-servers.cjs', JSON.stringify({
      addresses: [t.farV4, t.farV6],
      httpPort: HTTP_PORT,
      ...(caFile ? { httpsPort: HTTPS_PORT, cert: caFile, key: path.join(certDir, 'key.pem') } : {}),
    })]);
    let stderr = '';
    server.stderr!.on('data', (chunk) => (stderr += chunk));
    const [chunk] = await Promise.race([once(server.stdout!, 'data'), once(server, 'exit').then(() => [`exited: ${stderr}`])]);
    expect(String(chunk)).toContain('ready');
  });
  afterAll(() => {
    t?.destroy();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it('http.get with Agent: interface ethA / ethB and localAddress reach the far server from that address, both families', () => {
    const [viaA, viaB, fromB4, fromB6] = agentRun([
      { make: 'Agent', options: { interface: 'ethA' }, requests: [{ url: httpUrl(4) }, { url: httpUrl(6) }] },
      { make: 'Agent', options: { interface: 'ethB' }, requests: [{ url: httpUrl(4) }, { url: httpUrl(6) }] },
      { make: 'Agent', options: { localAddress: t.ethB.v4 }, requests: [{ url: httpUrl(4) }] },
      { make: 'Agent', options: { localAddress: t.ethB.v6 }, requests: [{ url: httpUrl(6) }] },
    ]);
    expect(seenBy(viaA)).toEqual([t.ethA.v4, t.ethA.v6]);
    expect(seenBy(viaB)).toEqual([t.ethB.v4, t.ethB.v6]);
    expect(seenBy(fromB4)).toEqual([t.ethB.v4]);
    expect(seenBy(fromB6)).toEqual([t.ethB.v6]);
    expect(viaB.described[0]).toMatchObject({ source: t.ethB.v4, interface: 'ethB', pinned: 'SO_BINDTODEVICE' });
    expect(fromB4.described[0]).toMatchObject({ source: t.ethB.v4, interface: 'ethB', pinned: 'SO_BINDTODEVICE' });
  });

  it('a policy sends the far IPv4 address through ethB and IPv6 through ethA, and is told { host, port, protocol }', () => {
    const [byPolicy, byName] = agentRun([
      {
        make: 'Agent',
        options: { interface: 'ethA', policyTable: { [t.farV4]: { interface: 'ethB' }, [t.farV6]: { interface: 'ethA' } } },
        requests: [{ url: httpUrl(4) }, { url: httpUrl(6) }],
      },
      {
        // A name is handed to the policy unresolved; no answer keeps the agent's own interface.
        make: 'Agent',
        options: { interface: 'ethB', policyTable: { 'far.test': { localAddress: t.ethA.v4 }, 'far6.test': null } },
        requests: [
          { url: `http://far.test:${HTTP_PORT}/`, options: { lookupTable: { 'far.test': [[t.farV4, 4]] } } },
          { url: `http://far6.test:${HTTP_PORT}/`, options: { lookupTable: { 'far6.test': [[t.farV6, 6]] } } },
        ],
      },
    ]);
    expect(seenBy(byPolicy)).toEqual([t.ethB.v4, t.ethA.v6]);
    expect(byPolicy.policyCalls).toEqual([
      { host: t.farV4, port: HTTP_PORT, protocol: 'http:' },
      { host: t.farV6, port: HTTP_PORT, protocol: 'http:' },
    ]);
    expect(seenBy(byName)).toEqual([t.ethA.v4, t.ethB.v6]);
    expect(byName.policyCalls.map((c) => c.host)).toEqual(['far.test', 'far6.test']);
  });

  it('routing failures, a throwing policy and a bad policy answer reach the request as errors', () => {
    const [unavailable, throwing, misspelt, viaLo] = agentRun([
      { make: 'Agent', options: { localAddress: '198.18.9.9' }, requests: [{ url: httpUrl(4) }] },
      { make: 'Agent', options: { policyTable: { [t.farV4]: 'throw' } }, requests: [{ url: httpUrl(4) }] },
      { make: 'Agent', options: { policyTable: { [t.farV4]: { interfce: 'ethB' } } }, requests: [{ url: httpUrl(4) }] },
      { make: 'Agent', options: { interface: 'lo' }, requests: [{ url: httpUrl(4) }] },
    ]);
    expect(unavailable.results[0]).toMatchObject({ ok: false, error: { code: 'EADDRNOTAVAIL', address: '198.18.9.9' } });
    expect(throwing.results[0]).toMatchObject({ ok: false, error: { message: `no uplink for ${t.farV4}` } });
    expect(misspelt.results[0]).toMatchObject({ ok: false, error: { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' } });
    expect(misspelt.results[0].error?.message).toContain('interfce');
    expect(viaLo.results[0]).toMatchObject({ ok: false, error: { code: 'ENETUNREACH' } });
  });

  it.skipIf(noOpenssl !== undefined)(`https.get with HttpsAgent: the certificate is verified over the routed socket${noOpenssl ? ` (skipped: ${noOpenssl})` : ''}`, () => {
    const [viaA, viaB, fromB, byPolicy, named, sni, noCa, wrongName, unavailable] = agentRun([
      { make: 'HttpsAgent', options: { interface: 'ethA', caFile }, requests: [{ url: httpsUrl(4) }, { url: httpsUrl(6) }] },
      { make: 'HttpsAgent', options: { interface: 'ethB', caFile }, requests: [{ url: httpsUrl(4) }, { url: httpsUrl(6) }] },
      { make: 'HttpsAgent', options: { localAddress: t.ethB.v4, caFile }, requests: [{ url: httpsUrl(4) }] },
      {
        make: 'HttpsAgent',
        options: { caFile, policyTable: { [t.farV4]: { interface: 'ethB' }, [t.farV6]: { interface: 'ethA' } } },
        requests: [{ url: httpsUrl(4) }, { url: httpsUrl(6) }],
      },
      // servername set by the request: SNI carries it and the certificate is checked against it.
      { make: 'HttpsAgent', options: { interface: 'ethB', caFile }, requests: [{ url: httpsUrl(4), options: { servername: 'far.test' } }] },
      // A name resolved by routebind itself: TLS runs over the socket the winning attempt made.
      { make: 'HttpsAgent', options: { interface: 'ethB', caFile, ALPNProtocols: ['http/1.1'] }, requests: [{ url: `https://far.test:${HTTPS_PORT}/`, options: { lookupTable: { 'far.test': [[t.farV6, 6], [t.farV4, 4]] } } }] },
      { make: 'HttpsAgent', options: { interface: 'ethB' }, requests: [{ url: httpsUrl(4) }] },
      { make: 'HttpsAgent', options: { interface: 'ethB', caFile }, requests: [{ url: httpsUrl(4), options: { servername: 'other.test' } }] },
      { make: 'HttpsAgent', options: { localAddress: '198.18.9.9', caFile }, requests: [{ url: httpsUrl(4) }] },
    ]);
    expect(seenBy(viaA)).toEqual([t.ethA.v4, t.ethA.v6]);
    expect(seenBy(viaB)).toEqual([t.ethB.v4, t.ethB.v6]);
    expect(viaB.results[0].seen).toMatchObject({ servername: null }); // no SNI for an IP literal
    expect(viaB.described[0]).toMatchObject({ source: t.ethB.v4, interface: 'ethB', pinned: 'SO_BINDTODEVICE' }); // the TLS socket describes as the one under it
    expect(seenBy(fromB)).toEqual([t.ethB.v4]);
    expect(seenBy(byPolicy)).toEqual([t.ethB.v4, t.ethA.v6]);
    expect(byPolicy.policyCalls[0]).toEqual({ host: t.farV4, port: HTTPS_PORT, protocol: 'https:' });
    expect(named.results[0]).toMatchObject({ ok: true, seen: { address: t.ethB.v4, servername: 'far.test' } });
    expect(sni.results[0]).toMatchObject({ ok: true, seen: { address: t.ethB.v6, servername: 'far.test', alpn: 'http/1.1' } });
    expect(noCa.results[0]).toMatchObject({ ok: false, error: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } });
    expect(wrongName.results[0]).toMatchObject({ ok: false, error: { code: 'ERR_TLS_CERT_ALTNAME_INVALID' } });
    expect(unavailable.results[0]).toMatchObject({ ok: false, error: { code: 'EADDRNOTAVAIL' } });
  });

  describe.skipIf(noUndici !== undefined)(`undici with connector()${noUndici ? ` (skipped: ${noUndici})` : ''}`, () => {
    it('the global fetch, undici.fetch and undici.request leave through ethB, both families', () => {
      const connector = { interface: 'ethB' };
      const results = undiciRun([
        { api: 'global-fetch', url: httpUrl(4), connector },
        { api: 'global-fetch', url: httpUrl(6), connector },
        { api: 'fetch', url: httpUrl(4), connector },
        { api: 'fetch', url: httpUrl(6), connector },
        { api: 'request', url: httpUrl(4), connector },
        { api: 'request', url: httpUrl(6), connector },
      ]);
      for (const r of results) expect(r.error, JSON.stringify(r.error)).toBeUndefined();
      expect(results.map((r) => r.seen?.address)).toEqual([t.ethB.v4, t.ethB.v6, t.ethB.v4, t.ethB.v6, t.ethB.v4, t.ethB.v6]);
    });

    it('a policy on the connector; routing errors reach fetch as its cause', () => {
      const [v4, v6, unavailable] = undiciRun([
        { api: 'fetch', url: httpUrl(4), connector: { policyTable: { [t.farV4]: { interface: 'ethB' } } } },
        { api: 'request', url: httpUrl(6), connector: { interface: 'ethB', policyTable: { [t.farV6]: { localAddress: t.ethA.v6 } } } },
        { api: 'global-fetch', url: httpUrl(4), connector: { localAddress: '198.18.9.9' } },
      ]);
      expect(v4).toMatchObject({ ok: true, seen: { address: t.ethB.v4 } });
      expect(v4.policyCalls).toEqual([{ host: t.farV4, port: HTTP_PORT, protocol: 'http:' }]);
      expect(v6).toMatchObject({ ok: true, seen: { address: t.ethA.v6 } });
      expect(unavailable).toMatchObject({ ok: false, error: { name: 'TypeError', cause: { code: 'EADDRNOTAVAIL' } } });
    });

    it.skipIf(noOpenssl !== undefined)(`over https: verified against the generated CA, ALPN http/1.1, SNI only for names${noOpenssl ? ` (skipped: ${noOpenssl})` : ''}`, () => {
      const connector = { interface: 'ethB', caFile };
      const named = { ...connector, lookupTable: { 'far.test': [[t.farV4, 4]] } };
      const results = undiciRun([
        { api: 'global-fetch', url: httpsUrl(4), connector },
        { api: 'fetch', url: httpsUrl(6), connector },
        { api: 'request', url: httpsUrl(4), connector },
        { api: 'fetch', url: `https://far.test:${HTTPS_PORT}/`, connector: named },
        { api: 'fetch', url: httpsUrl(4), connector: { interface: 'ethB' } },
      ]);
      for (const r of results.slice(0, 4)) expect(r.error, JSON.stringify(r.error)).toBeUndefined();
      expect(results.map((r) => r.seen?.address).slice(0, 4)).toEqual([t.ethB.v4, t.ethB.v6, t.ethB.v4, t.ethB.v4]);
      for (const r of results.slice(0, 3)) expect(r.seen).toMatchObject({ alpn: 'http/1.1', servername: null });
      expect(results[3].seen).toMatchObject({ alpn: 'http/1.1', servername: 'far.test' });
      expect(results[4]).toMatchObject({ ok: false, error: { cause: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } } });
    });
  });

  it('keep-alive: sequential requests reuse one connection and maxSockets: 1 serialises three, as with http.Agent', () => {
    const sequential = (make: string, options: object) => ({ make, options: { keepAlive: true, ...options }, requests: [{ url: httpUrl(4) }, { url: httpUrl(4) }, { url: httpUrl(6) }, { url: httpUrl(6) }] });
    const concurrent = (make: string, options: object) => ({ make, options: { maxSockets: 1, ...options }, concurrent: true, requests: [{ url: httpUrl(4) }, { url: httpUrl(4) }, { url: httpUrl(4) }] });
    const [routed, node, routedLimited, nodeLimited, routedKeepLimited] = agentRun([
      sequential('Agent', { interface: 'ethB' }),
      sequential('http.Agent', {}),
      concurrent('Agent', { interface: 'ethB' }),
      concurrent('http.Agent', {}),
      concurrent('Agent', { interface: 'ethB', keepAlive: true }),
    ]);
    const ports = (o: AgentOutcome) => o.results.map((r) => r.seen!.port);
    expect(seenBy(routed)).toEqual([t.ethB.v4, t.ethB.v4, t.ethB.v6, t.ethB.v6]);
    expect(seenBy(node)).toEqual([t.ethA.v4, t.ethA.v4, t.ethA.v6, t.ethA.v6]);
    for (const o of [routed, node]) {
      expect(o.results.map((r) => r.reused)).toEqual([false, true, false, true]);
      expect(ports(o)[1]).toBe(ports(o)[0]);
      expect(ports(o)[3]).toBe(ports(o)[2]);
    }
    for (const o of [routedLimited, nodeLimited, routedKeepLimited]) {
      expect(o.results.every((r) => r.ok)).toBe(true);
      expect(new Set(ports(o)).size).toBe(1);
      // Node hands a queued request the socket directly, without marking it reusedSocket.
      expect(o.results.map((r) => r.reused)).toEqual(nodeLimited.results.map((r) => r.reused));
    }
    expect(seenBy(routedLimited)).toEqual([t.ethB.v4, t.ethB.v4, t.ethB.v4]);
  });

  it.skipIf(noOpenssl !== undefined)(`keep-alive over https: one TLS connection for sequential requests${noOpenssl ? ` (skipped: ${noOpenssl})` : ''}`, () => {
    const [routed] = agentRun([{ make: 'HttpsAgent', options: { keepAlive: true, interface: 'ethB', caFile }, requests: [{ url: httpsUrl(4) }, { url: httpsUrl(4) }] }]);
    expect(seenBy(routed)).toEqual([t.ethB.v4, t.ethB.v4]);
    expect(routed.results.map((r) => r.reused)).toEqual([false, true]);
    expect(routed.results[1].seen!.port).toBe(routed.results[0].seen!.port);
  });

  describe('a pooled keep-alive socket whose uplink went down is not reused', () => {
    /** What taking ethB down removed (IPv6 addresses and routes of both families), put back. */
    const restoreHost = () => {
      t.run(t.host, ['ip', 'link', 'set', 'ethB', 'up']);
      const addresses = JSON.parse(t.exec(t.host, ['ip', '-j', 'addr', 'show', 'dev', 'ethB']))[0].addr_info.map((a: { local: string }) => a.local);
      if (!addresses.includes(t.ethB.v6)) t.exec(t.host, ['ip', 'addr', 'add', `${t.ethB.v6}/64`, 'dev', 'ethB', 'nodad']);
      if (!addresses.includes(t.ethB.policyV6)) t.exec(t.host, ['ip', 'addr', 'add', `${t.ethB.policyV6}/64`, 'dev', 'ethB', 'nodad', 'preferred_lft', '0']);
      for (const [family, gateway] of [['-4', t.ethB.gateway4], ['-6', t.ethB.gateway6]] as const) {
        const routes = JSON.parse(t.exec(t.host, ['ip', '-j', family, 'route', 'show', 'default', 'dev', 'ethB']));
        if (routes.length === 0) t.exec(t.host, ['ip', family, 'route', 'add', 'default', 'via', gateway, 'dev', 'ethB', 'metric', '200']);
      }
    };
    const flap = (s: object) => {
      try {
        const [r] = client<FlapOutcome>([{ kind: 'flap', gateway4: t.ethB.gateway4, ...s }]);
        expect(r.thrown, JSON.stringify(r.thrown)).toBeUndefined();
        return r;
      } finally {
        restoreHost();
      }
    };
    const expectNewConnection = (r: FlapOutcome) => {
      expect(r.first, JSON.stringify(r.first)).toMatchObject({ ok: true, seen: { address: t.ethB.v4 } });
      expect(r.second, JSON.stringify(r.second)).toMatchObject({ ok: true, reused: false, seen: { address: t.ethB.v4 } });
      expect(r.second.seen!.port).not.toBe(r.first.seen!.port);
    };

    it('idle in the pool: destroyed as soon as ethB goes down; the next request connects anew', () => {
      const r = flap({ make: 'Agent', options: { keepAlive: true, interface: 'ethB' }, url: httpUrl(4), when: 'idle' });
      expect(r.flap.outcome).toBe('closed');
      expect(r.destroyedAtOnce).toBe(true);
      expect(r.freeAfter).toBe(0);
      expectNewConnection(r);
    });

    it('serving a request: that request completes, then the socket is dropped instead of pooled', () => {
      const r = flap({ make: 'Agent', options: { keepAlive: true, interface: 'ethB' }, url: httpUrl(4), when: 'in-flight' });
      expect(r.flap.outcome).toBe('ENETDOWN');
      expectNewConnection(r);
    });

    it('with a request queued behind it (maxSockets: 1): the queued request gets a new connection', () => {
      const r = flap({ make: 'Agent', options: { keepAlive: true, maxSockets: 1, interface: 'ethB' }, url: httpUrl(4), when: 'queued' });
      expect(r.flap.outcome).toBe('ENETDOWN');
      expectNewConnection(r);
    });

    it.skipIf(noOpenssl !== undefined)(`HttpsAgent: the change seen on the raw socket retires the pooled TLS socket${noOpenssl ? ` (skipped: ${noOpenssl})` : ''}`, () => {
      const r = flap({ make: 'HttpsAgent', options: { keepAlive: true, interface: 'ethB', caFile }, url: httpsUrl(4), when: 'idle' });
      expect(r.flap.outcome).toBe('closed');
      expect(r.freeAfter).toBe(0);
      expectNewConnection(r);
    });
  });
});
