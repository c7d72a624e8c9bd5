#!/usr/bin/env node
// The `autoglm` command. In a source checkout (`npm ci` installs tsx, a dev dependency) it runs the TypeScript
// sources through tsx, so a fresh clone needs no build step and never runs a stale dist/. An installed package has
// no src/ and no tsx: it runs the built dist/cli.js.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const built = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch {
    return undefined;
  }
}

const register = existsSync(source) ? await tsxRegister() : undefined;
let entry;
if (register !== undefined) {
  register();
  entry = source;
} else if (existsSync(built)) {
  entry = built;
} else {
  process.stderr.write('autoglm: neither dist/cli.js nor tsx is available: run `npm ci` (source checkout) or `npm run build`.\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
