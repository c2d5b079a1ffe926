// Which OS the unit suite runs on, and what that OS gives the tests: the loopback's name, a way to
// count open descriptors, and skip helpers that put the reason in the test's name. One place, so
// every file asks the same question the same way (ci.yml runs test/unit on Linux, macOS, Windows).
import { existsSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

export const onLinux = process.platform === 'linux';
export const onDarwin = process.platform === 'darwin';
export const onWindows = process.platform === 'win32';

/** The addon makes sockets and Node adopts the fd (createSocket, adoptSocket...): Linux and macOS. */
export const hasPosixSockets = onLinux || onDarwin;

/** The loopback interface's name as the OS (and os.networkInterfaces()) gives it. */
export const loopbackName = onWindows ? 'Loopback Pseudo-Interface 1' : onDarwin ? 'lo0' : 'lo';

/**
 * What describe().pinned says of a socket held to the loopback: the OS's own mechanism. On
 * Windows it is the strong host model, or null where the loopback sends weak-host (WeakHostSend):
 * test/windows/windows.test.ts checks which against Get-NetIPInterface.
 */
export const loopbackPinned: unknown = onLinux ? 'SO_BINDTODEVICE' : onDarwin ? 'IP_BOUND_IF' : expect.toBeOneOf(['strong-host', null]);

/**
 * Whether 127.0.0.2 answers on the loopback: Linux and Windows route all of 127/8 to it; macOS
 * configures only 127.0.0.1 on lo0 (Node's own tests ask the same, common.hasMultiLocalhost()).
 */
export const hasMultiLocalhost = onLinux || onWindows;

/** A path net.Server can listen on as a local socket: a file on POSIX, a named pipe on Windows. */
export function pipePath(name: string): string {
  return onWindows ? `\\\\.\\pipe\\${name}` : path.join(os.tmpdir(), `${name}.sock`);
}

/**
 * The argv that runs npm. On Windows npm is npm.cmd, which child_process starts only through a
 * shell (CVE-2024-27980); its JavaScript entry point runs under this node instead.
 */
export function npmArgv(...args: string[]): string[] {
  if (!onWindows) return ['npm', ...args];
  const given = process.env.npm_execpath;
  const cli = given !== undefined && /npm-cli\.js$/.test(given) && existsSync(given)
    ? given
    : path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return [process.execPath, cli, ...args];
}

/**
 * fs.symlinkSync's type for a link to a directory: a junction, which Windows makes without the
 * symlink privilege; every other OS ignores the type.
 */
export const DIR_LINK = 'junction';

/** Why a test runs only on Linux, by what it needs. */
export const NEEDS = {
  netlink: 'needs Linux netlink (parseNetlink is the Linux addon\'s)',
  linuxRouting: "expects Linux's routing answers (tables, RTN types, iproute2's output)",
  linuxOptions: 'Linux-only lookup options (mark, uid, iif, tos, protocol, ports): elsewhere ERR_ROUTEBIND_UNSUPPORTED_OPTION, see unsupported-option.test.ts',
  lo: "expects Linux's loopback name 'lo' (and SO_BINDTODEVICE where it pins)",
  bindToDevice: 'expects SO_BINDTODEVICE (Linux)',
  linuxErrors: "expects Linux's errno for the case",
  posixSockets: 'needs the addon-made sockets of Linux and macOS (fd hand-off); Windows sockets are Node\'s own',
} as const;

function reasonName(name: string, runs: boolean, why: string): string {
  return runs ? name : `${name} — skipped on ${process.platform}: ${why}`;
}

type ItFn = () => unknown;
type DescribeFn = () => void;

/**
 * it(), run only where `runs` is true; elsewhere skipped visibly, the reason appended to its
 * name. Where it runs, the name is exactly the one given.
 */
export function itOn(runs: boolean, why: string) {
  return (name: string, fn: ItFn, timeout?: number): void => {
    it.skipIf(!runs)(reasonName(name, runs, why), fn, timeout);
  };
}

/** describe() run only where `runs` is true; elsewhere skipped visibly, the reason in its name. */
export function describeOn(runs: boolean, why: string) {
  return (name: string, fn: DescribeFn): void => {
    describe.skipIf(!runs)(reasonName(name, runs, why), fn);
  };
}

/** it() on Linux only: skipped elsewhere, saying why. */
export const linuxIt = (why: string) => itOn(onLinux, why);
/** describe() on Linux only: skipped elsewhere, saying why. */
export const linuxDescribe = (why: string) => describeOn(onLinux, why);

/**
 * What this process holds open, for leak checks: its descriptors on Linux (/proc/self/fd) and
 * macOS (/dev/fd). Windows has no descriptor table to list; there every routebind socket is one of
 * Node's own libuv handles (the addon makes none), so those are counted instead.
 */
export function openFds(): number {
  if (onLinux) return readdirSync('/proc/self/fd').length;
  if (onDarwin) return readdirSync('/dev/fd').length;
  const report = process.report.getReport() as unknown as { libuv: Array<{ type: string }> };
  return report.libuv.filter((h) => h.type === 'tcp' || h.type === 'udp' || h.type === 'pipe').length;
}
