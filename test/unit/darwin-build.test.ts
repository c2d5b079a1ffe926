// The whole addon built for darwin-arm64 and darwin-x64 on Linux (scripts/cross/darwin.mjs: zig's
// clang and macOS SDK headers, -Wall -Werror, the PF_ROUTE layout static_asserts checked against the
// SDK), then its undefined symbols read back. The dylib is linked with -undefined dynamic_lookup, which
// would let a call to a function nobody wrote (a routebind:: helper declared but never defined) link
// quietly and fail only on a Mac at dlopen: so every undefined symbol must be Node's (napi_*,
// node_api_*, uv_*, looked up in the loading node) or bound by the linker to libSystem, and the
// libSystem ones must be the list below. The arm64 build must carry a valid ad hoc code signature.
// Skipped, with the reason in the name, where zig cannot be had.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

interface Symbol { name: string; from: string | null }
interface DarwinRecipe {
  build(target: string, o: { root?: string; out?: string }): Promise<string>;
  ensureZig(): Promise<string>;
  llvmTool(name: string): string;
  undefinedSymbols(file: string): Symbol[];
  zigEnv(): NodeJS.ProcessEnv;
  zigTarget(target: string): string;
}

const root = path.join(__dirname, '..', '..');
const recipe = (await import(path.join(root, 'scripts', 'cross', 'darwin.mjs'))) as DarwinRecipe;

// What libSystem provides that the addon calls, directly (sockets, getifaddrs, sysctl, fcntl...) or
// through the libc++, libc++abi and libunwind zig links in statically (strto*, wcs*, _Unwind_*,
// pthread_*, dlopen/dlsym), and what the compiler emits (stack protector, thread-local variables).
// `fstat$INODE64` is x86_64's name for fstat with 64-bit inodes; arm64 has only the one.
const LIBSYSTEM = new Set([
  // The addon's own calls.
  'bind', 'close', 'connect', 'dup2', 'fcntl', 'freeifaddrs', 'fstat', 'fstat$INODE64', 'getifaddrs',
  'getpid', 'getsockname', 'getsockopt', 'if_indextoname', 'if_nametoindex', 'inet_ntop', 'inet_pton',
  'read', 'recv', 'setsockopt', 'socket', 'sysctl', 'write', '__error',
  // C library and C++ runtime.
  'abort', 'aligned_alloc', 'calloc', 'free', 'malloc', 'realloc', 'bzero', '__bzero', 'memchr', 'memcmp',
  'memcpy', 'memmove', 'memset', 'strcmp', 'strlen', 'strerror_r', 'snprintf', 'swprintf', 'vfprintf', 'fputc',
  'fwrite', '__stderrp', '_DefaultRuneLocale', 'ceilf', 'clock_gettime', 'dlopen', 'dlsym',
  'strtod', 'strtof', 'strtol', 'strtold', 'strtoll', 'strtoul', 'strtoull',
  'wcslen', 'wcstod', 'wcstof', 'wcstol', 'wcstold', 'wcstoll', 'wcstoul', 'wcstoull', 'wmemchr', 'wmemcmp',
  'pthread_cond_broadcast', 'pthread_cond_wait', 'pthread_mach_thread_np', 'pthread_mutex_lock',
  'pthread_mutex_unlock', 'pthread_self',
  '_Unwind_DeleteException', '_Unwind_GetIP', '_Unwind_GetLanguageSpecificData', '_Unwind_GetRegionStart',
  '_Unwind_RaiseException', '_Unwind_Resume', '_Unwind_SetGR', '_Unwind_SetIP',
  // Compiler and loader.
  '__stack_chk_fail', '__stack_chk_guard', '_tlv_bootstrap', 'dyld_stub_binder',
]);
const FROM_NODE = /^_(napi_|node_api_|uv_)/;

/** What is wrong with a dylib's undefined symbols: each one that neither Node nor libSystem gives. */
function unexpectedSymbols(symbols: Symbol[]): string[] {
  return symbols.flatMap(({ name, from }) => {
    if (from === null) return FROM_NODE.test(name) ? [] : [`${name} (left to dynamic lookup: nobody defines it)`];
    if (from !== 'libSystem') return [`${name} (from ${from}, not libSystem)`];
    return LIBSYSTEM.has(name.replace(/^_/, '')) ? [] : [`${name} (from libSystem, not in the list)`];
  });
}

/** Mach-O header: cputype (0x0100000c arm64, 0x01000007 x86_64) and filetype (6 = MH_DYLIB). */
function machHeader(file: string): { cputype: number; filetype: number } {
  const head = readFileSync(file).subarray(0, 32);
  expect(head.readUInt32LE(0)).toBe(0xfeedfacf);
  return { cputype: head.readUInt32LE(4), filetype: head.readUInt32LE(12) };
}

/**
 * The ad hoc code signature of a Mach-O file, checked as the kernel checks it on load: the
 * CodeDirectory's SHA-256 of every page up to codeLimit must match the file. Returns its
 * identifier and page count, or throws saying what does not match.
 */
function adHocSignature(file: string): { identifier: string; pages: number; flags: number } {
  const b = readFileSync(file);
  const ncmds = b.readUInt32LE(16);
  let at = 32;
  let dataoff = -1;
  for (let i = 0; i < ncmds; i++) {
    const [cmd, size] = [b.readUInt32LE(at), b.readUInt32LE(at + 4)];
    if (cmd === 0x1d) dataoff = b.readUInt32LE(at + 8);  // LC_CODE_SIGNATURE
    at += size;
  }
  if (dataoff < 0) throw new Error('no LC_CODE_SIGNATURE');
  // SuperBlob (big-endian): magic 0xfade0cc0, length, count, then (type, offset) pairs.
  if (b.readUInt32BE(dataoff) !== 0xfade0cc0) throw new Error('no embedded signature SuperBlob');
  const count = b.readUInt32BE(dataoff + 8);
  for (let i = 0; i < count; i++) {
    const cd = dataoff + b.readUInt32BE(dataoff + 12 + 8 * i + 4);
    if (b.readUInt32BE(cd) !== 0xfade0c02) continue;  // CodeDirectory
    const flags = b.readUInt32BE(cd + 12);
    const hashOffset = b.readUInt32BE(cd + 16);
    const identOffset = b.readUInt32BE(cd + 20);
    const nCodeSlots = b.readUInt32BE(cd + 28);
    const codeLimit = b.readUInt32BE(cd + 32);
    const [hashSize, hashType, pageShift] = [b[cd + 36], b[cd + 37], b[cd + 39]];
    if (hashType !== 2 || hashSize !== 32) throw new Error(`hash type ${hashType}/${hashSize}, not SHA-256`);
    if (codeLimit !== dataoff) throw new Error(`signs ${codeLimit} bytes, the file has ${dataoff} before its signature`);
    const page = 2 ** pageShift;
    for (let k = 0; k < nCodeSlots; k++) {
      const digest = createHash('sha256').update(b.subarray(k * page, Math.min((k + 1) * page, codeLimit))).digest();
      if (!digest.equals(b.subarray(cd + hashOffset + k * 32, cd + hashOffset + (k + 1) * 32))) throw new Error(`page ${k} does not match its hash`);
    }
    if (nCodeSlots !== Math.ceil(codeLimit / page)) throw new Error(`${nCodeSlots} pages signed of ${Math.ceil(codeLimit / page)}`);
    const identifier = b.toString('latin1', cd + identOffset, b.indexOf(0, cd + identOffset));
    return { identifier, pages: nCodeSlots, flags };
  }
  throw new Error('no CodeDirectory');
}

async function toolchainMissing(): Promise<string | undefined> {
  try {
    recipe.llvmTool('llvm-nm');
    recipe.llvmTool('llvm-strip');
    await recipe.ensureZig();
    return undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTOOLCHAIN') return (error as Error).message;
    throw error;
  }
}

const missing = await toolchainMissing();
const out = mkdtempSync(path.join(tmpdir(), 'routebind-darwin-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

// Cold, zig first builds libc++ for each target: over 3 minutes per arch on a busy 2-core machine.
const BUILD_TIMEOUT = 900_000;

describe.skipIf(missing !== undefined)(`the darwin cross-build${missing ? ` (skipped: ${missing})` : ''}`, () => {
  for (const [target, cputype] of [['darwin-arm64', 0x0100000c], ['darwin-x64', 0x01000007]] as const) {
    it(`${target}: builds with -Wall -Werror, and leaves no undefined symbol but Node's and libSystem's`, async () => {
      const started = Date.now();
      const file = await recipe.build(target, { root, out: path.join(out, target, 'routebind.node') });
      console.log(`${target}: ${statSync(file).size} bytes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(machHeader(file)).toEqual({ cputype, filetype: 6 });
      const symbols = recipe.undefinedSymbols(file);
      expect(unexpectedSymbols(symbols)).toEqual([]);
      // The calls the backend is made of are really there (the list is no blanket pass).
      const names = new Set(symbols.map((s) => s.name));
      for (const call of ['_socket', '_sysctl', '_getifaddrs', '_setsockopt', '_dup2', '_napi_create_function', '_uv_poll_start']) {
        expect(names, call).toContain(call);
      }
      // Only libSystem is linked: libc++ is in the binary, not expected on the Mac.
      const objdump = (flag: string) => {
        const r = spawnSync(recipe.llvmTool('llvm-objdump'), ['--macho', flag, file], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        return r.stdout.split('\n').slice(1).map((l) => l.trim().split(' ')[0]).filter(Boolean);
      };
      // --dylibs-used lists the dylib's own install name too.
      expect(objdump('--dylib-id')).toEqual(['@rpath/routebind.node']);
      expect(objdump('--dylibs-used')).toEqual(['@rpath/routebind.node', '/usr/lib/libSystem.B.dylib']);
      if (target === 'darwin-arm64') {
        // Apple Silicon loads no unsigned code: stripping must leave a valid ad hoc signature
        // (flags 0x2 adhoc) whose page hashes match the stripped file.
        const signature = adHocSignature(file);
        expect(signature.identifier).toBe('routebind.node');
        expect(signature.flags & 0x2).toBe(0x2);
        // And the check is a check: one byte changed in the code is caught.
        const tampered = path.join(out, 'tampered.node');
        const bytes = readFileSync(file);
        bytes[4096 + 17] ^= 0xff;
        writeFileSync(tampered, bytes);
        expect(() => adHocSignature(tampered)).toThrow(/page 1 does not match its hash/);
      }
    }, BUILD_TIMEOUT);
  }

  it('the layout static_asserts are live: a wrong sizeof(struct rt_msghdr) stops the macOS build', async () => {
    const zig = await recipe.ensureZig();
    // A copy of native/ whose routebind constant disagrees with the SDK by 4 bytes.
    const copy = path.join(out, 'native');
    cpSync(path.join(root, 'native'), copy, { recursive: true });
    const header = path.join(copy, 'darwin', 'route_message.h');
    writeFileSync(header, readFileSync(header, 'utf8').replace('kRtMsghdrSize = 92', 'kRtMsghdrSize = 96'));
    const compile = (dir: string) => spawnSync(zig, ['c++', '-target', recipe.zigTarget('darwin-arm64'), '-std=c++17', '-I', dir,
      '-c', path.join(dir, 'darwin', 'route_message.cc'), '-o', path.join(out, 'route_message.o')], { encoding: 'utf8', env: recipe.zigEnv(), timeout: BUILD_TIMEOUT });
    expect(compile(path.join(root, 'native')).status).toBe(0);
    const wrong = compile(copy);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/static assertion failed.*struct rt_msghdr layout/);
  }, BUILD_TIMEOUT);

  it('the check catches a function declared but never written, which dynamic lookup would hide until dlopen on a Mac', async () => {
    const zig = await recipe.ensureZig();
    const source = path.join(out, 'missing.cc');
    writeFileSync(source, 'namespace routebind { int NobodyWroteThis(int); }\n' +
      'extern "C" int napi_module_register(void*);\n' +
      'int Call(int v) { return routebind::NobodyWroteThis(v) + napi_module_register(nullptr); }\n');
    const dylib = path.join(out, 'missing.dylib');
    const r = spawnSync(zig, ['c++', '-target', recipe.zigTarget('darwin-arm64'), '-O2', '-shared', '-Wl,-undefined,dynamic_lookup', source, '-o', dylib],
      { encoding: 'utf8', env: recipe.zigEnv(), timeout: BUILD_TIMEOUT });
    expect(r.status, r.stderr).toBe(0);  // it links: that is the danger
    expect(unexpectedSymbols(recipe.undefinedSymbols(dylib))).toEqual(['__ZN9routebind15NobodyWroteThisEi (left to dynamic lookup: nobody defines it)']);
  }, BUILD_TIMEOUT);
});
