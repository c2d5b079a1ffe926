// A node:test reporter that writes one JSON line per finished test (the Wine suite's machine-
// readable result): name, its describe() path, file, outcome, duration and the failure's message.
// Loaded by the Windows node.exe under Wine (--test-reporter=<this file>).
export default async function* jsonLines(source) {
  const stack = [];
  for await (const event of source) {
    const { type, data } = event;
    if (type === 'test:start') {
      stack[data.nesting] = data.name;
      continue;
    }
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    // Suites (describe) report too; only leaves are tests of their own, unless the whole suite
    // was skipped (its tests never start, so it stands for them).
    if (data.details?.type === 'suite' && data.skip === undefined) continue;
    const error = data.details?.error;
    const cause = error?.cause ?? error;
    yield `${JSON.stringify({
      name: data.name,
      path: stack.slice(0, data.nesting),
      file: data.file,
      outcome: data.skip !== undefined ? 'skipped' : data.todo !== undefined ? 'todo' : type === 'test:pass' ? 'passed' : 'failed',
      skipReason: typeof data.skip === 'string' ? data.skip : undefined,
      ms: data.details?.duration_ms,
      error: cause ? String(cause.stack ?? cause.message ?? cause).slice(0, 4000) : undefined,
    })}\n`;
  }
}
