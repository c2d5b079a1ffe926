// Reads binding.gyp the way gyp would for one target OS, so a cross build compiles exactly the
// files, defines and flags a from-source build there would: binding.gyp stays the one list.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** binding.gyp is a Python literal: JSON plus `#` comments, single quotes and trailing commas. */
function parseGyp(text) {
  const withoutComments = text.replace(/^\s*#.*$/gm, '');
  return new Function(`return (${withoutComments});`)();
}

/** A gyp condition ("OS=='linux'", "OS!='mac' and OS!='win'") evaluated for `os`. */
function holds(condition, os) {
  const js = condition.replace(/\band\b/g, '&&').replace(/\bor\b/g, '||').replace(/\bnot\b/g, '!');
  if (!/^[\sA-Za-z_'"=!&|()]*$/.test(js)) throw new Error(`binding.gyp: cannot evaluate condition ${condition}`);
  return Boolean(new Function('OS', `return (${js});`)(os));
}

/** gyp's merge: lists append, `key!` lists remove, nested conditions apply in order. */
function merge(into, from, os) {
  for (const [key, value] of Object.entries(from)) {
    if (key === 'conditions') continue;
    if (key.endsWith('!')) continue;
    if (Array.isArray(value)) into[key] = [...(into[key] ?? []), ...value];
    else if (value !== null && typeof value === 'object') into[key] = { ...(into[key] ?? {}), ...value };
    else into[key] = value;
  }
  for (const [key, value] of Object.entries(from)) {
    if (key.endsWith('!') && Array.isArray(value)) {
      const name = key.slice(0, -1);
      into[name] = (into[name] ?? []).filter((v) => !value.includes(v));
    }
  }
  for (const [condition, then, otherwise] of from.conditions ?? []) {
    if (holds(condition, os)) merge(into, then, os);
    else if (otherwise) merge(into, otherwise, os);
  }
}

/** `<!(command)` expands to the command's output, run in the package root, as gyp does. */
function expand(value, root) {
  const m = /^<!\((.*)\)$/.exec(value);
  if (!m) return value;
  return execSync(m[1], { cwd: root, encoding: 'utf8' }).trim();
}

/**
 * The addon target of binding.gyp as gyp sees it for `os` ('linux', 'mac', 'win'):
 * { name, sources, defines, includeDirs (absolute), cflags, cflagsCc, libraries }.
 */
export function readTarget(root, os) {
  const gyp = parseGyp(readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
  const target = gyp.targets[0];
  const merged = {};
  merge(merged, target, os);
  return {
    name: target.target_name,
    sources: merged.sources ?? [],
    defines: merged.defines ?? [],
    includeDirs: (merged.include_dirs ?? []).map((d) => path.resolve(root, expand(d, root))),
    cflags: merged.cflags ?? [],
    cflagsCc: merged.cflags_cc ?? [],
    libraries: merged.libraries ?? [],
  };
}

/** Every source file binding.gyp names under any condition (for the packaging checks). */
export function allSources(root) {
  const text = readFileSync(path.join(root, 'binding.gyp'), 'utf8');
  return [...new Set([...text.matchAll(/["'](native\/[^"']+\.(?:cc|cpp|c|mm|m))["']/g)].map((m) => m[1]))].sort();
}
