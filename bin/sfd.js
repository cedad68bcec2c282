#!/usr/bin/env node
// The `sfd` command: runs the TypeScript CLI through tsx, so no build step is needed.
require('tsx/cjs');
// `sfd info | head -1` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
require('../lib/cli/main.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
