#!/usr/bin/env node
// Every installed entry of a lockfile has a version. npm has written entries
// without one for optional platform bindings it could not resolve when the
// lockfile was made; `npm ci` then crashes ("Invalid Version:") on any machine
// whose registry does resolve them, while a machine like the one that wrote
// the lockfile accepts it.
'use strict';
const { readFileSync } = require('node:fs');

const file = process.argv[2] ?? 'package-lock.json';
const lock = JSON.parse(readFileSync(file, 'utf8'));
const broken = Object.entries(lock.packages ?? {})
  .filter(([location, entry]) => location !== '' && !entry.link && !entry.version)
  .map(([location]) => location);
if (broken.length > 0) {
  process.stderr.write(`${file}: ${broken.length} entries without a version (npm ci fails on them):\n  ${broken.join('\n  ')}\n`);
  process.exit(1);
}
