#!/usr/bin/env node
// The package's command-line tool. A committed stub rather than the build itself, so that npm links the bin at
// install time in this repository's workspace, before `npm run build:lib` has written dist/.
import '../dist/cli/main.js';
