#!/usr/bin/env node
// Entry point of the `pacer` command: runs the compiled CLI (built by `npm ci` via `prepare`).
import '../dist/cli/main.js';
