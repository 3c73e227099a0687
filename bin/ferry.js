#!/usr/bin/env node
// The `ferry` command: runs the TypeScript CLI through tsx's loader (a runtime dependency).
require('tsx/cjs');
require('./ferry.ts');
