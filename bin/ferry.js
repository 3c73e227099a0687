#!/usr/bin/env node
// The `ferry` command. Client commands take a fast path that does not load the server (lib/cli/main.ts);
// everything else goes to bin/ferry.ts.
//
// Both run from prebuilt esbuild bundles (dist/cli.cjs, dist/ferry.cjs; built by `npm install` / `npm ci`
// through the `prepare` script, and again before `npm start` / `npm test`) when they exist and are not older
// than any source file they were built from. Otherwise the TypeScript is compiled at run time through tsx's
// loader (a runtime dependency), which costs memory and start-up time.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const dist = path.join(__dirname, '..', 'dist');

/** True when both bundles exist and every input recorded in their metafile is unchanged since the build. */
function bundlesFresh() {
  if (process.env.FERRY_NO_BUNDLE) return false;
  try {
    const built = Math.min(fs.statSync(path.join(dist, 'ferry.cjs')).mtimeMs, fs.statSync(path.join(dist, 'cli.cjs')).mtimeMs);
    const meta = JSON.parse(fs.readFileSync(path.join(dist, 'meta.json'), 'utf8'));
    for (const input of Object.keys(meta.inputs)) {
      if (fs.statSync(path.join(__dirname, '..', input)).mtimeMs > built) return false;
    }
    return true;
  } catch {
    return false;
  }
}

if (bundlesFresh()) {
  // User code loaded at run time (consumer handler modules) may still be TypeScript: load tsx on first use.
  const exts = ['.ts', '.cts', '.mts', '.tsx'];
  const lazyTs = function (module, filename) {
    for (const e of exts) if (Module._extensions[e] === lazyTs) delete Module._extensions[e];
    require('tsx/cjs');
    return (Module._extensions[path.extname(filename)] || Module._extensions['.js'])(module, filename);
  };
  for (const e of exts) if (!Module._extensions[e]) Module._extensions[e] = lazyTs;
  process.setSourceMapsEnabled(true);
  const cli = require(path.join(dist, 'cli.cjs'));
  if (cli.CLIENT_COMMANDS.includes(process.argv[2])) cli.main(process.argv);
  else require(path.join(dist, 'ferry.cjs'));
} else {
  require('tsx/cjs');
  const cli = require('../lib/cli/main.ts');
  if (cli.CLIENT_COMMANDS.includes(process.argv[2])) cli.main(process.argv);
  else require('./ferry.ts');
}
