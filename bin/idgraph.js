#!/usr/bin/env node
'use strict';
/**
 * The `idgraph` command. It runs the compiled CLI (dist/, from `npm run
 * build`) when that is at least as new as every source file, and otherwise
 * the TypeScript sources through ts-node's transpile-only register (a dev
 * dependency): a checkout then never runs a stale build (a migration added
 * since the last build would be missed by `migrate`), and an install with only
 * dist/ and production dependencies needs no TypeScript at all.
 */
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const compiled = path.join(root, 'dist', 'src', 'cli', 'main.js');
const source = path.join(root, 'src', 'cli', 'main.ts');

function newestSourceChange() {
  let newest = 0;
  const visit = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
  };
  visit(path.join(root, 'src'));
  visit(path.join(root, 'migrations'));
  return newest;
}

function tsNode() {
  try {
    return require(require.resolve('ts-node', { paths: [root] }));
  } catch {
    return undefined;
  }
}

function entryPoint() {
  const hasCompiled = fs.existsSync(compiled);
  if (!fs.existsSync(source)) return hasCompiled ? compiled : undefined;
  // IDGRAPH_CLI_FROM_SOURCE=1 runs the sources even when the build is current.
  const fromSource = process.env.IDGRAPH_CLI_FROM_SOURCE === '1';
  if (!fromSource && hasCompiled && fs.statSync(compiled).mtimeMs >= newestSourceChange()) return compiled;
  const register = tsNode();
  if (register) {
    register.register({ transpileOnly: true, project: path.join(root, 'tsconfig.json') });
    return source;
  }
  if (hasCompiled) {
    process.stderr.write('idgraph: dist/ is older than the sources and ts-node is not installed: running the old build (npm run build to refresh it)\n');
    return compiled;
  }
  return undefined;
}

const entry = entryPoint();
if (!entry) {
  process.stderr.write('idgraph: no compiled CLI (dist/src/cli/main.js) and no ts-node to run the sources: run npm run build\n');
  process.exit(1);
}
require(entry)
  .main(process.argv)
  .then((code) => process.exit(code));
