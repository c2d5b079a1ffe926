// Which OS routebind runs on, and which of its options exist there: one table, read before any
// system call, so an option an OS lacks is refused by name rather than ignored.
//
// The OS is process.platform, read once at load. Policy (which options exist, the cache default,
// how sockets are made) follows it; which native functions exist follows the addon's own
// `platform` (lib/binding.ts), and the two are the same OS on every real install.

/** The OSes with a native backend. */
export const BACKENDS = ['linux', 'darwin', 'win32'] as const;
/** An OS with a native backend, as process.platform names it. */
export type Backend = (typeof BACKENDS)[number];

const running = process.platform;

/** The OS this process runs on, when routebind has a backend for it. */
export const HOST: Backend | undefined = (BACKENDS as readonly string[]).includes(running) ? (running as Backend) : undefined;

export const hasBackend = HOST !== undefined;

function list(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** routebind's own error for an OS (or an OS's addon) that lacks what was asked. */
export interface PlatformError extends Error {
  /** Always 'ERR_ROUTEBIND_UNSUPPORTED_PLATFORM'. */
  code: 'ERR_ROUTEBIND_UNSUPPORTED_PLATFORM';
  /** The OS that lacks it. */
  platform: string;
}

/**
 * ERR_ROUTEBIND_UNSUPPORTED_PLATFORM. Without arguments: routebind as a whole, on an OS without
 * a backend. With `feature`: one OS's own function asked for on another (a bug in routebind, or
 * an addon built for another OS).
 */
export function unsupportedPlatform(feature?: string, where: readonly string[] = BACKENDS, platform: string = running): PlatformError {
  const message = feature === undefined
    ? `routebind does not support ${platform}: it has native backends for ${list(where)} only, and asks nothing of this OS (no route lookup, interface list or socket)`
    : `routebind: ${feature} exists on ${list(where)}, not on ${platform}`;
  const error = new Error(message) as PlatformError;
  return Object.assign(error, { code: 'ERR_ROUTEBIND_UNSUPPORTED_PLATFORM' as const, platform });
}

/** Throws ERR_ROUTEBIND_UNSUPPORTED_PLATFORM on an OS without a backend: every public entry point's first step. */
export function requireBackend(): void {
  if (HOST === undefined) throw unsupportedPlatform();
}

/** The options routebind adds, where each exists, and what it is (for the refusal's message). */
export const OPTION_PLATFORMS = {
  // Route queries (routeTo) and sockets alike.
  interface: { on: BACKENDS, what: 'an output interface' },
  from: { on: BACKENDS, what: 'a source address for the lookup' },
  localAddress: { on: BACKENDS, what: 'a source address' },
  pin: { on: BACKENDS, what: 'pinning to the interface: SO_BINDTODEVICE on Linux, IP_BOUND_IF on macOS, the strong host model on Windows' },
  strict: { on: BACKENDS, what: 'failing when the socket cannot be held to its interface' },
  // Linux's policy routing inputs: neither PF_ROUTE's RTM_GET nor GetBestRoute2 takes them, and
  // neither OS has a socket mark.
  mark: { on: ['linux'], what: 'a firewall mark: SO_MARK, and the fwmark of the route lookup' },
  uid: { on: ['linux'], what: "the socket owner of the lookup, RTA_UID" },
  iif: { on: ['linux'], what: 'an input interface for the lookup, RTA_IIF' },
  tos: { on: ['linux'], what: 'a type-of-service selector for the lookup' },
  protocol: { on: ['linux'], what: 'an IP protocol selector for the lookup, RTA_IP_PROTO' },
  sourcePort: { on: ['linux'], what: 'a source port selector for the lookup, RTA_SPORT' },
  destinationPort: { on: ['linux'], what: 'a destination port selector for the lookup, RTA_DPORT' },
} as const satisfies Record<string, { on: readonly Backend[]; what: string }>;

/** An option routebind adds to Node's, as OPTION_PLATFORMS (exported as optionPlatforms) lists them. */
export type RoutebindOption = keyof typeof OPTION_PLATFORMS;

/** routebind's refusal of an option this OS does not have. */
export interface UnsupportedOptionError extends TypeError {
  /** Always 'ERR_ROUTEBIND_UNSUPPORTED_OPTION'. */
  code: 'ERR_ROUTEBIND_UNSUPPORTED_OPTION';
  /** The option as the caller wrote it (`options.mark`). */
  option: string;
  /** The OS that lacks it, as process.platform names it. */
  platform: string;
}

export function unsupportedOption(name: string, option: RoutebindOption, platform: string = running, reason?: string): UnsupportedOptionError {
  const entry = OPTION_PLATFORMS[option];
  const message = reason !== undefined
    ? `The option '${name}' cannot be honoured on ${platform}: ${reason}`
    : `The option '${name}' does not exist on ${platform}: routebind offers it on ${list(entry.on)} only (${entry.what})`;
  const error = new TypeError(message) as UnsupportedOptionError;
  return Object.assign(error, { code: 'ERR_ROUTEBIND_UNSUPPORTED_OPTION' as const, option: name, platform });
}

/** Which of `among` this OS lacks, worked out once: on Linux none, so each check is a length test. */
function missingAmong(among: readonly RoutebindOption[]): readonly RoutebindOption[] {
  if (HOST === undefined) return [];
  const host: string = HOST;
  return among.filter((k) => !(OPTION_PLATFORMS[k].on as readonly string[]).includes(host));
}

/** routeTo()'s options this OS lacks. */
export const MISSING_QUERY_OPTIONS = missingAmong(['from', 'interface', 'iif', 'mark', 'uid', 'tos', 'protocol', 'sourcePort', 'destinationPort']);
/**
 * The socket options (connect, createSocket, createServer, the agents, a policy's answer) this OS
 * lacks. Only routebind's own keys: `protocol` there is http's ('http:'), not a lookup input.
 */
export const MISSING_SOCKET_OPTIONS = missingAmong(['interface', 'localAddress', 'pin', 'strict', 'mark']);

/**
 * Refuses any of `missing` that `options` gives (not undefined), before its value is even
 * checked: `prefix` names the object in the message ('options').
 */
export function refuseMissingOptions(prefix: string, options: object, missing: readonly RoutebindOption[]): void {
  if (missing.length === 0) return;
  const o = options as Record<string, unknown>;
  for (const key of missing) {
    if (o[key] !== undefined) throw unsupportedOption(`${prefix}.${key}`, key);
  }
}
