// Addresses are canonicalised once, when arguments are parsed: every spelling of an address
// becomes inet_ntop's text, the one Node itself prints (net.SocketAddress formats with it).
import * as net from 'node:net';

import { describe, expect, it } from 'vitest';

import { routeTo } from '../../lib/index';
import { parseIpLiteral } from '../../lib/validate';

/** Node's own canonical text for an address (uv_inet_ntop). */
function nodeText(address: string): string {
  return new net.SocketAddress({ address, family: net.isIPv6(address) ? 'ipv6' : 'ipv4' }).address;
}

// Every pattern of zero and non-zero words, each written three ways: upper case with leading
// zeros, fully expanded, and with a '::' wherever one fits. Deterministic: no random input.
function spellings(): string[] {
  const out: string[] = [];
  for (let mask = 0; mask < 256; mask++) {
    const words = Array.from({ length: 8 }, (_, i) => ((mask >> i) & 1 ? (0x1a0 + i * 0x1111) & 0xffff : 0));
    out.push(words.map((w) => w.toString(16).toUpperCase().padStart(4, '0')).join(':'));
    out.push(words.map((w) => w.toString(16)).join(':'));
    // The first run of zeros (any length >= 1) written as '::'.
    const start = words.indexOf(0);
    if (start !== -1) {
      let end = start;
      while (end < 8 && words[end] === 0) end++;
      out.push(`${words.slice(0, start).map((w) => w.toString(16)).join(':')}::${words.slice(end).map((w) => w.toString(16)).join(':')}`);
    }
  }
  return out;
}

const SPECIAL = [
  '::', '::1', '1::', '::0:1', '0:0::1', '1:0::2', 'FD00:B:0::2', 'fd00:b::2', '::ffff:1.2.3.4', '::FFFF:0102:0304',
  '::1.2.3.4', '::0.0.0.2', '::ffff:0:1.2.3.4', '64:ff9b::1.2.3.4', '1::1.2.3.4', 'fe80::0001', '2001:db8::1:0:0:1',
  '2001:0db8:0000:0000:0001:0000:0000:0001', '0:0:0:0:0:1:0:0',
];

describe('parseIpLiteral gives inet_ntop\'s text', () => {
  it.each(SPECIAL)('%s', (address) => {
    expect(parseIpLiteral('address', address).address).toBe(nodeText(address));
  });

  it('every pattern of zero words, in every spelling', () => {
    const cases = spellings();
    expect(cases.length).toBeGreaterThan(700);
    for (const address of cases) expect(parseIpLiteral('address', address).address, address).toBe(nodeText(address));
  });

  it('keeps the zone apart and untouched; IPv4 is already canonical', () => {
    expect(parseIpLiteral('address', 'FE80:0::1%Eth0')).toEqual({ address: 'fe80::1', family: 6, zone: 'Eth0' });
    expect(parseIpLiteral('address', '10.0.0.1')).toEqual({ address: '10.0.0.1', family: 4, zone: undefined });
  });

  it('routeTo answers for the canonical address, however it was written', () => {
    const a = routeTo('0:0:0:0:0:0:0:1');
    expect(a.destination).toBe('::1');
    expect(routeTo('::1', { from: '0::1' })).toMatchObject({ destination: '::1', source: '::1', from: '::1' });
  });
});
