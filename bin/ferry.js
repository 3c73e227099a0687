#!/usr/bin/env node
// The `ferry` command: runs the TypeScript CLI through tsx's loader (a runtime dependency). Client commands
// take a fast path that does not load the server (lib/cli/main.ts); everything else goes to bin/ferry.ts.
require('tsx/cjs');
const cli = require('../lib/cli/main.ts');
if (cli.CLIENT_COMMANDS.includes(process.argv[2])) cli.main(process.argv);
else require('./ferry.ts');
