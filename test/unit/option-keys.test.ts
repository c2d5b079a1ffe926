// The one rule for option keys at the drop-ins (connect, createConnection, Agent, HttpsAgent,
// connector): Node's keys and unknown keys pass as Node lets them pass, a near miss of one of
// routebind's keys throws ERR_INVALID_ARG_VALUE before any system call. And misspeltKey() itself.
import * as http from 'node:http';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as routebind from '../../lib/index';
import { misspeltKey, rejectMisspeltKeys, ROUTEBIND_KEYS } from '../../lib/option-keys';
import { openFds } from '../helpers/platform';

// Keys Node's net.connect, tls.connect, http.request and http.Agent take: none may ever be taken for a misspelling.
const NODE_OPTION_KEYS = [
  'host', 'hostname', 'port', 'path', 'family', 'hints', 'lookup', 'timeout', 'localPort', 'keepAlive', 'keepAliveInitialDelay',
  'noDelay', 'onread', 'allowHalfOpen', 'readable', 'writable', 'signal', 'highWaterMark', 'autoSelectFamily',
  'autoSelectFamilyAttemptTimeout', 'fd', 'headers', 'method', 'agent', 'auth', 'defaultPort', 'protocol', 'setHost',
  'createConnection', 'maxHeaderSize', 'insecureHTTPParser', 'joinDuplicateHeaders', 'uniqueHeaders', 'keepAliveMsecs',
  'maxSockets', 'maxFreeSockets', 'maxTotalSockets', 'scheduling', 'ca', 'cert', 'key', 'pfx', 'passphrase', 'servername',
  'session', 'ALPNProtocols', 'rejectUnauthorized', 'minVersion', 'maxVersion', 'ciphers', 'checkServerIdentity', 'encoding',
  '_defaultAgent', 'socketPath',
];

describe('misspeltKey()', () => {
  it('names the routebind key a near miss was meant to be', () => {
    expect(misspeltKey('interfce')).toBe('interface');
    expect(misspeltKey('Interface ')).toBe('interface');
    expect(misspeltKey('inteface')).toBe('interface');
    expect(misspeltKey('localAdress')).toBe('localAddress');
    expect(misspeltKey('localaddress')).toBe('localAddress');
    expect(misspeltKey('onRouteChang')).toBe('onRouteChange');
    expect(misspeltKey('pni')).toBe('pin');
    expect(misspeltKey('strcit')).toBe('strict');
    expect(misspeltKey('makr')).toBe('mark');
    expect(misspeltKey('polcy')).toBe('policy');
  });

  it("is undefined for routebind's own keys, Node's keys and unrelated keys", () => {
    for (const key of ROUTEBIND_KEYS) expect(misspeltKey(key), key).toBeUndefined();
    for (const key of NODE_OPTION_KEYS) expect(misspeltKey(key), key).toBeUndefined();
    for (const key of ['foo', 'x', '_agentKey', 'somethingElseEntirely', '']) expect(misspeltKey(key), key).toBeUndefined();
  });

  it('takes the set of own keys to compare with', () => {
    expect(misspeltKey('tabel', ['table'])).toBe('table');
    expect(misspeltKey('interfce', ['table'])).toBeUndefined();
  });

  it('rejectMisspeltKeys() throws a TypeError naming the key and what it resembles', () => {
    expect(() => rejectMisspeltKeys('options', { interfce: 'eth0' })).toThrow(expect.objectContaining({
      name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('options.interfce') as unknown as string,
    }));
    expect(() => rejectMisspeltKeys('options', { interfce: 'eth0' })).toThrow(/did you mean options\.interface/);
    expect(() => rejectMisspeltKeys('options', { host: 'x', foo: 1 })).not.toThrow();
  });
});

describe('the drop-ins', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((req, res) => res.end(`${req.method} ${req.url} ${req.headers['x-test'] ?? ''}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(() => server.close());

  const misspelt = [{ interfce: 'lo' }, { localAdress: '127.0.0.1' }, { onRouteChang: 'destroy' }, { strcit: true }];

  it('connect() and createConnection(): a near miss throws before any fd is made, for a literal and a name', () => {
    const before = openFds();
    for (const entry of [routebind.connect, routebind.createConnection]) {
      for (const host of ['127.0.0.1', 'localhost']) {
        for (const extra of misspelt) {
          expect(() => entry({ host, port, ...extra } as routebind.ConnectOptions)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
        }
      }
    }
    expect(openFds()).toBe(before);
  });

  it("connect(): Node's keys and unknown keys pass, as with net.connect()", async () => {
    const socket = routebind.connect({ host: '127.0.0.1', port, headers: {}, method: 'GET', foo: 1, hostname: 'ignored', servername: 'x' } as routebind.ConnectOptions);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.destroy();
  });

  it('Agent, HttpsAgent and connector(): a near miss throws at construction; unknown keys pass', () => {
    for (const extra of misspelt) {
      expect(() => new routebind.Agent(extra as routebind.AgentOptions)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => new routebind.HttpsAgent(extra as routebind.HttpsAgentOptions)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => routebind.connector(extra as routebind.ConnectorOptions)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(() => new routebind.Agent({ keepAlive: true, maxSockets: 2, foo: 1 } as routebind.AgentOptions)).not.toThrow();
    expect(() => new routebind.HttpsAgent({ keepAlive: true, rejectUnauthorized: false, foo: 1 } as routebind.HttpsAgentOptions)).not.toThrow();
    expect(() => routebind.connector({ rejectUnauthorized: false, foo: 1 } as routebind.ConnectorOptions)).not.toThrow();
  });

  it('an http.request through routebind.Agent with ordinary request options works', async () => {
    const agent = new routebind.Agent({ keepAlive: false });
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1', port, path: '/some/path?q=1', method: 'POST', agent, headers: { 'x-test': 'yes' }, setHost: true,
        timeout: 5000, family: 4, insecureHTTPParser: false, maxHeaderSize: 16384, joinDuplicateHeaders: true,
      }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => { text += d; }).on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end('payload');
    });
    expect(body).toBe('POST /some/path?q=1 yes');
    agent.destroy();
  });

  it('a near miss in request options fails the request before any fd is made, as a bad net option does with Node', () => {
    const agent = new routebind.Agent();
    const before = openFds();
    expect(() => http.get({ host: '127.0.0.1', port, agent, interfce: 'lo' } as http.RequestOptions)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(openFds()).toBe(before);
    agent.destroy();
  });

  it('connector(): a near miss in the per-connection parameters reaches the callback, no fd made', async () => {
    const connect = routebind.connector();
    const before = openFds();
    const error = await new Promise<Error | null>((resolve) => connect({ protocol: 'http:', hostname: '127.0.0.1', port, localAddress: 'not-an-ip' }, (e) => resolve(e)));
    expect(error).toMatchObject({ code: 'ERR_INVALID_IP_ADDRESS' });
    expect(openFds()).toBe(before);
  });
});
