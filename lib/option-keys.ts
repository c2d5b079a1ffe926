// One rule for option keys, at every entry point.
// - routebind's own functions (routeTo, routes, watch, configureRouteCache, a policy() answer)
//   reject every key they do not take (rejectUnknownKeys in validate.ts).
// - The drop-ins for Node (connect, createConnection, createSocket, bind, listen, createServer,
//   Agent, HttpsAgent, connector) ignore keys they do not know, as Node does: http passes its
//   whole request options down, and programs pass option objects through. But a key that is a
//   near miss of one of routebind's own (`interfce`, `localAdress`, `onRouteChang`) and is not
//   one of Node's would silently route elsewhere: that is a TypeError (ERR_INVALID_ARG_VALUE)
//   naming the key it resembles.
import { invalidArgValue } from './errors';

/** The keys routebind adds to Node's options. */
export const ROUTEBIND_KEYS = ['interface', 'localAddress', 'pin', 'strict', 'mark', 'onRouteChange', 'policy'] as const;

// Node's option names that routebind's entry points may be handed (net, tls, http request and
// agent, dgram, listen). Only keys close to a routebind key matter; listing Node's own keeps a
// real Node option from ever being mistaken for a misspelling.
const NODE_KEYS = new Set([
  'allowHalfOpen', 'autoSelectFamily', 'autoSelectFamilyAttemptTimeout', 'backlog', 'blockList', 'exclusive', 'family', 'fd',
  'handle', 'hints', 'host', 'hostname', 'ipv6Only', 'keepAlive', 'keepAliveInitialDelay', 'localPort', 'lookup', 'noDelay',
  'onread', 'path', 'pauseOnConnect', 'port', 'readable', 'writable', 'readableAll', 'writableAll', 'signal', 'timeout',
  'highWaterMark', 'manualStart', 'reuseAddr', 'reusePort', 'recvBufferSize', 'sendBufferSize', 'type', 'address',
  'ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'session', 'ALPNProtocols', 'rejectUnauthorized', 'secureContext',
  'minVersion', 'maxVersion', 'ciphers', 'ecdhCurve', 'checkServerIdentity', 'crl', 'sigalgs', 'secureProtocol', 'requestCert',
  'headers', 'method', 'agent', 'auth', 'defaultPort', 'protocol', 'setHost', 'createConnection', 'maxHeaderSize',
  'insecureHTTPParser', 'joinDuplicateHeaders', 'uniqueHeaders', 'href', 'pathname', 'search', 'query', 'hash',
  'keepAliveMsecs', 'maxSockets', 'maxFreeSockets', 'maxTotalSockets', 'scheduling', 'encoding', '_defaultAgent',
]);

/** Damerau–Levenshtein (optimal string alignment) distance, case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The routebind key that `key` looks like a misspelling of, if any. */
export function misspeltKey(key: string, own: readonly string[] = ROUTEBIND_KEYS): string | undefined {
  if (own.includes(key) || NODE_KEYS.has(key)) return undefined;
  // Length difference bounds the distance: skip the table for keys that cannot be close.
  for (const candidate of own) {
    const limit = candidate.length <= 4 ? 1 : 2;
    if (Math.abs(candidate.length - key.length) > limit) continue;
    if (distance(key, candidate) <= limit) return candidate;
  }
  return undefined;
}

/**
 * The drop-in rule: throws for a near miss of one of routebind's keys, ignores every other key
 * (as Node does). `name` is the argument's name in the message ('options').
 */
export function rejectMisspeltKeys(name: string, options: object, own: readonly string[] = ROUTEBIND_KEYS): void {
  for (const key of Object.keys(options)) {
    const meant = misspeltKey(key, own);
    if (meant !== undefined) {
      throw invalidArgValue(`${name}.${key}`, (options as Record<string, unknown>)[key], `is not an option; did you mean ${name}.${meant}?`);
    }
  }
}
