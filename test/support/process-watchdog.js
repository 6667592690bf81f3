#!/usr/bin/env node
// Spawned detached by global-setup.js: `node process-watchdog.js <jest pid> <scratch folder>`. Jest runs no global
// teardown when it is interrupted (Ctrl-C) or killed; this process outlives it, and once jest's pid is gone it stops
// the run's embedded PostgreSQL and removes its folders. global-teardown.js ends it after a normal cleanup.
import { processAlive, stopAndRemoveEmbedded } from './embedded-cleanup.js';

const [jestPid, scratch] = [Number(process.argv[2]), process.argv[3]];
if (!Number.isInteger(jestPid) || !scratch) {
  console.error('usage: process-watchdog.js <jest pid> <scratch folder>');
  process.exit(2);
}
// The terminal's Ctrl-C reaches the foreground process group; this one has its own, but ignore it anyway.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);

const timer = setInterval(() => {
  if (processAlive(jestPid)) return;
  clearInterval(timer);
  stopAndRemoveEmbedded(scratch).then(
    () => process.exit(0),
    () => process.exit(1),
  );
}, 250);
