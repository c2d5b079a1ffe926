// The first thing dist/cli.js loads when it is the program: it loads the addon before the commands'
// modules do, so that a missing or unloadable addon ends the CLI with the library's one-line error
// (what it tried and every fix) and exit code 1, never with a stack trace.
import * as path from 'node:path';

if (require.main !== undefined && require.main.filename === path.join(__dirname, 'cli.js')) {
  try {
    require('./binding');
  } catch (error) {
    if ((error as { code?: unknown })?.code !== 'ERR_ROUTEBIND_ADDON') throw error;
    const message = String((error as Error).message).replace(/^routebind:\s*/, '').replace(/\s*\n\s*/g, ' ');
    process.stderr.write(`routebind: ERR_ROUTEBIND_ADDON: ${message}\n`);
    process.exit(1);
  }
}
