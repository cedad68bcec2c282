#!/usr/bin/env node
// The `sfd` command: runs the TypeScript CLI through tsx, so no build step is needed.
require('tsx/cjs');
require('../lib/cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
