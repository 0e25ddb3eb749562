#!/usr/bin/env node
/**
 * `npm start` runs this first: build the editor (dist/editor) when it is
 * missing or older than any file under editor/, so the served editor is the
 * one in the working tree. A build takes a few seconds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, '..', 'dist', 'editor', 'index.html');

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const stale = !existsSync(built) || newest(here) > statSync(built).mtimeMs || statSync(join(here, '..', 'package-lock.json')).mtimeMs > statSync(built).mtimeMs;
if (stale) {
  console.log('building the editor (dist/editor)…');
  execFileSync(process.execPath, [join(here, '..', 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', join(here, 'vite.config.mts'), '--logLevel', 'warn'], { stdio: 'inherit' });
}
