// Starts and stops a real Photon (`python -m photon.devserver`: migrate, then web, worker and
// scheduler under honcho, with an embedded Redis) for the end-to-end run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class PhotonServer {
  /**
   * @param {object} o
   * @param {string} o.root  the repository root (frontend/..)
   * @param {string} o.python  the venv's python
   * @param {number} o.port
   * @param {string} o.dbPath  SQLite file, kept across restarts
   * @param {string} o.logPath
   * @param {Record<string,string>} [o.extraEnv]
   */
  constructor(o) {
    Object.assign(this, o);
    this.proc = null;
    this.starts = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  env() {
    const env = { ...process.env };
    delete env.REDIS_URL; // the devserver then starts an embedded Redis
    return {
      ...env,
      PORT: String(this.port),
      DATABASE_URL: `sqlite:///${this.dbPath}`,
      PHOTON_DATA_SOURCE: 'replay',
      PHOTON_REPLAY_TICK: '1',
      PHOTON_MONITOR_INTERVAL: '1',
      PHOTON_PAPER_COOLDOWN: '5',
      PHOTON_ENV: 'development',
      PYTHONUNBUFFERED: '1',
      ...(this.extraEnv ?? {}),
    };
  }

  async start(timeoutMs = 120_000) {
    this.starts += 1;
    const log = fs.openSync(this.logPath, 'a');
    fs.writeSync(log, `\n===== start ${this.starts} at ${new Date().toISOString()} =====\n`);
    // Its own process group, so that one SIGINT reaches honcho, web, worker, scheduler and Redis.
    this.proc = spawn(this.python, ['-m', 'photon.devserver'], { cwd: this.root, env: this.env(), detached: true, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    this.exited = exited;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const early = await Promise.race([exited, sleep(500).then(() => null)]);
      if (early) throw new Error(`photon.devserver exited (${JSON.stringify(early)}) before /health answered; see ${this.logPath}`);
      try {
        const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) return (await r.json());
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error(`Photon did not become healthy within ${timeoutMs / 1000} s; see ${this.logPath}`);
    }
  }

  /** SIGINT to the whole process group, as Ctrl-C would; SIGKILL if it hangs. */
  async stop(timeoutMs = 25_000) {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const pgid = proc.pid;
    try {
      process.kill(-pgid, 'SIGINT');
    } catch {
      return;
    }
    const done = await Promise.race([this.exited, sleep(timeoutMs).then(() => null)]);
    if (!done) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await this.exited;
    }
    // Children that outlived the leader (they share its group id).
    try {
      process.kill(-pgid, 0);
      await sleep(1000);
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* none left */
    }
    this.proc = null;
  }
}

export function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export function ensureDir(dir) {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export const here = (...p) => path.join(path.dirname(new URL(import.meta.url).pathname), ...p);
