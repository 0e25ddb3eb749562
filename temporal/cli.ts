/**
 * Finds or obtains the `temporal` CLI binary that runs our dev server.
 *
 * Owns the resolution order (TEMPORAL_CLI_PATH, PATH, the per-user cache, the official release
 * download, a `go install` build) and the cache layout under `${XDG_CACHE_HOME:-~/.cache}/idflow`.
 * Nothing here starts a server; see dev-server.ts for that.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';

export const TEMPORAL_CLI_VERSION = '1.5.1';

const BINARY_NAME = 'temporal';
const GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';
/** The release build stamps this variable; without it `temporal --version` says 0.0.0-DEV. */
const GO_VERSION_LDFLAG = `-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`;

const DOWNLOAD_HEADERS_TIMEOUT_MS = 30_000;
/** A body that stops flowing for this long is treated as a dead connection. */
const DOWNLOAD_STALL_TIMEOUT_MS = 60_000;
const DOWNLOAD_PROGRESS_EVERY_BYTES = 5 * 1024 * 1024;

const BUILD_PROGRESS_EVERY_MS = 15_000;
/** A lock untouched for this long belongs to a build that died without cleaning up. */
const LOCK_STALE_MS = 30 * 60_000;
const LOCK_POLL_MS = 2_000;

export interface EnsureTemporalCliOptions {
  /** Receives one progress line at a time, already prefixed with `[temporal]`. Default: console.log. */
  log?: (line: string) => void;
}

/** Directory holding the cached binary for the pinned version. */
export function cachedCliDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'idflow', 'temporal-cli', `v${TEMPORAL_CLI_VERSION}`);
}

/** Where a downloaded or Go-built binary lives once obtained. */
export function cachedCliPath(): string {
  return path.join(cachedCliDir(), BINARY_NAME);
}

/** Returns an absolute path to an executable `temporal` binary, obtaining one if needed. */
export async function ensureTemporalCli(opts: EnsureTemporalCliOptions = {}): Promise<string> {
  const log = prefixed(opts.log ?? console.log);

  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    const resolved = path.resolve(fromEnv);
    const problem = whyNotExecutable(resolved);
    if (problem) {
      throw new Error(`TEMPORAL_CLI_PATH points to ${resolved}, which ${problem}. Fix or unset TEMPORAL_CLI_PATH.`);
    }
    return resolved;
  }

  const onPath = findOnPath(BINARY_NAME);
  if (onPath) return onPath;

  const cached = cachedCliPath();
  if (!whyNotExecutable(cached)) return cached;

  try {
    return await downloadRelease(log);
  } catch (err) {
    log(`could not download the Temporal CLI release (${errorMessage(err)}); trying other options`);
  }

  const go = findOnPath('go');
  if (go) return buildWithGo(go, log);

  throw new Error(
    `Temporal CLI not found and could not be downloaded. Do one of:\n` +
      `  - set TEMPORAL_CLI_PATH to an existing temporal binary;\n` +
      `  - install the Temporal CLI so \`temporal\` is on PATH (https://docs.temporal.io/cli);\n` +
      `  - install Go (https://go.dev/dl/) so it can be built into ${cachedCliDir()} ` +
      `(run \`npm run temporal:install\`).`,
  );
}

function prefixed(log: (line: string) => void): (line: string) => void {
  return (line) => log(`[temporal] ${line}`);
}

/** Describes why `file` can't be run, or returns undefined if it can. */
function whyNotExecutable(file: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return 'does not exist';
  }
  if (!stat.isFile()) return 'is not a regular file';
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    return 'is not executable (chmod +x it)';
  }
  return undefined;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(dir, name);
    if (!whyNotExecutable(candidate)) return candidate;
  }
  return undefined;
}

function releasePlatform(): { platform: string; arch: string } {
  const platform = { linux: 'linux', darwin: 'darwin' }[process.platform as string];
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string];
  if (!platform || !arch) {
    throw new Error(`no release build for ${process.platform}/${process.arch}`);
  }
  return { platform, arch };
}

/** Downloads the official release archive and installs its binary into the cache. */
async function downloadRelease(log: (line: string) => void): Promise<string> {
  const { platform, arch } = releasePlatform();
  const url = `https://temporal.download/cli/archive/v${TEMPORAL_CLI_VERSION}?platform=${platform}&arch=${arch}`;
  const dir = cachedCliDir();
  fs.mkdirSync(dir, { recursive: true });
  // Work in a private directory on the same filesystem so the final rename is atomic:
  // another process must never see a half-written binary at the cached path.
  const staging = fs.mkdtempSync(path.join(dir, '.download-'));
  try {
    log(`downloading Temporal CLI v${TEMPORAL_CLI_VERSION} from ${url}`);
    const archive = path.join(staging, 'temporal.tar.gz');
    await fetchToFile(url, archive, log);
    await tar.x({ file: archive, cwd: staging, filter: (entry) => path.basename(entry) === BINARY_NAME });
    const extracted = path.join(staging, BINARY_NAME);
    if (!fs.existsSync(extracted)) throw new Error(`the archive from ${url} has no '${BINARY_NAME}' file`);
    fs.chmodSync(extracted, 0o755);
    const target = cachedCliPath();
    fs.renameSync(extracted, target);
    log(`installed ${target}`);
    return target;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function fetchToFile(url: string, file: string, log: (line: string) => void): Promise<void> {
  const abort = new AbortController();
  let timer = setTimeout(
    () => abort.abort(new Error(`no response within ${DOWNLOAD_HEADERS_TIMEOUT_MS / 1000}s`)),
    DOWNLOAD_HEADERS_TIMEOUT_MS,
  );
  const armStallTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => abort.abort(new Error(`download stalled for ${DOWNLOAD_STALL_TIMEOUT_MS / 1000}s`)),
      DOWNLOAD_STALL_TIMEOUT_MS,
    );
  };
  try {
    const res = await fetch(url, { signal: abort.signal, redirect: 'follow' });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText} from ${url}`);
    armStallTimer();
    const total = Number(res.headers.get('content-length')) || undefined;
    let received = 0;
    let nextReport = DOWNLOAD_PROGRESS_EVERY_BYTES;
    const progress = new Transform({
      transform(chunk: Buffer, _enc, done) {
        armStallTimer();
        received += chunk.length;
        if (received >= nextReport) {
          nextReport += DOWNLOAD_PROGRESS_EVERY_BYTES;
          log(`downloaded ${mb(received)}${total ? ` of ${mb(total)}` : ''}`);
        }
        done(null, chunk);
      },
    });
    // The DOM and node:stream/web ReadableStream types differ only nominally.
    const body = Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]);
    await pipeline(body, progress, fs.createWriteStream(file), { signal: abort.signal });
    log(`downloaded ${mb(received)}, extracting`);
  } catch (err) {
    // Surface the timeout reason rather than a bare "This operation was aborted".
    throw abort.signal.aborted && abort.signal.reason instanceof Error ? abort.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/**
 * Builds the CLI with `go install`, holding a lock so that concurrent callers (jest global setup
 * and `npm start`, say) share one build instead of racing two multi-minute compiles.
 */
async function buildWithGo(go: string, log: (line: string) => void): Promise<string> {
  const target = cachedCliPath();
  const lockPath = `${cachedCliDir()}.lock`;
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });

  const started = Date.now();
  let lastWaitReport = started;
  for (;;) {
    const lock = tryLock(lockPath);
    if (lock) {
      try {
        // The previous holder may have finished between our cache check and taking the lock.
        if (!whyNotExecutable(target)) return target;
        await runGoInstall(go, lock, log);
        return target;
      } finally {
        lock.release();
      }
    }
    if (Date.now() - lastWaitReport >= BUILD_PROGRESS_EVERY_MS) {
      lastWaitReport = Date.now();
      log(`waiting for another process to finish building the Temporal CLI (${lockPath})... ${elapsed(started)} elapsed`);
    }
    await sleep(LOCK_POLL_MS);
  }
}

interface Lock {
  touch(): void;
  release(): void;
}

function tryLock(lockPath: string): Lock | undefined {
  try {
    const fd = fs.openSync(lockPath, 'wx');
    fs.writeSync(fd, JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() }));
    fs.closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (lockIsStale(lockPath)) {
      fs.rmSync(lockPath, { force: true });
      return tryLock(lockPath);
    }
    return undefined;
  }
  return {
    // Refreshing the mtime keeps a long but live build from looking stale to waiters.
    touch: () => {
      const now = new Date();
      try {
        fs.utimesSync(lockPath, now, now);
      } catch {
        // Losing the heartbeat only risks a duplicate build later; not worth failing this one.
      }
    },
    release: () => fs.rmSync(lockPath, { force: true }),
  };
}

function lockIsStale(lockPath: string): boolean {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(lockPath);
  } catch {
    return false; // Released while we looked; the caller's next attempt will take it.
  }
  if (Date.now() - stat.mtimeMs > LOCK_STALE_MS) return true;
  // A holder on this machine that no longer exists will never release the lock.
  try {
    const { pid, host } = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as { pid?: number; host?: string };
    if (host === os.hostname() && typeof pid === 'number' && pid !== process.pid) {
      try {
        process.kill(pid, 0);
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
    }
  } catch {
    // Unreadable or half-written lock contents: fall back to the age check above.
  }
  return false;
}

async function runGoInstall(go: string, lock: Lock, log: (line: string) => void): Promise<void> {
  const dir = cachedCliDir();
  fs.mkdirSync(dir, { recursive: true });
  // go install copies the binary into GOBIN non-atomically when its build cache is on another
  // filesystem, so build into a private GOBIN and rename into place.
  const gobin = fs.mkdtempSync(path.join(dir, '.build-'));
  const args = ['install', `-ldflags=-s -w ${GO_VERSION_LDFLAG}`, `${GO_PACKAGE}@v${TEMPORAL_CLI_VERSION}`];
  log(`running: go ${args.join(' ')} (GOBIN=${gobin})`);
  const started = Date.now();
  const ticker = setInterval(() => {
    lock.touch();
    log(`building Temporal CLI with Go (first time takes several minutes)... ${elapsed(started)} elapsed`);
  }, BUILD_PROGRESS_EVERY_MS);
  try {
    const tail: string[] = [];
    const child = spawn(go, args, { env: { ...process.env, GOBIN: gobin }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 30) tail.shift();
        log(line);
      });
    }
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (exitCode, signal) => resolve(signal ? null : exitCode));
    });
    if (code !== 0) {
      throw new Error(
        `go install ${GO_PACKAGE}@v${TEMPORAL_CLI_VERSION} failed (exit ${code ?? 'by signal'}):\n${tail.join('\n')}\n` +
          `Alternatively set TEMPORAL_CLI_PATH to an existing temporal binary or put \`temporal\` on PATH.`,
      );
    }
    const built = path.join(gobin, BINARY_NAME);
    const problem = whyNotExecutable(built);
    if (problem) throw new Error(`go install succeeded but ${built} ${problem}`);
    fs.renameSync(built, cachedCliPath());
    log(`built ${cachedCliPath()} in ${elapsed(started)}`);
  } finally {
    clearInterval(ticker);
    fs.rmSync(gobin, { recursive: true, force: true });
  }
}

function elapsed(since: number): string {
  const seconds = Math.floor((Date.now() - since) / 1000);
  return seconds >= 60 ? `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s` : `${seconds}s`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch() reports network failures as "fetch failed" with the real reason in `cause`.
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
