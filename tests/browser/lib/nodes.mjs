// Whole nodes for the browser test: `distiller up --port 0` in a temporary
// data directory, its log kept, ready when node.json names the port and
// /ready answers 200; stopped with SIGINT, then SIGKILL after a deadline (and
// then the private PostgreSQL it could not stop), the directory removed.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { Fatal, waitFor } from './wait.mjs';

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('DISTILLER_') || k === 'DATABASE_URL' || k === 'KAFKA_BOOTSTRAP_SERVERS') delete env[k];
  }
  return env;
}

/**
 * Starts a node; `opts` has distiller (the binary), repo (its working
 * directory: config/ is read from there) and artifacts (where its log goes).
 * Returns at once; `await node.ready` for its URL.
 */
export async function startNode(opts, name, extra) {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `distiller-ui-${name}-`));
  // The private PostgreSQL runs as `postgres` when we are root: let it in.
  await fsp.chmod(dir, 0o755);
  const logPath = path.join(opts.artifacts, `node-${name}.log`);
  const log = fs.createWriteStream(logPath);
  const args = ['up', '--port', '0', '--name', `ui-${name}`, '--data-dir', dir,
                '--set', `kafka.catalog=${path.join(opts.repo, 'config', 'topics.toml')}`, ...extra];
  const proc = spawn(opts.distiller, args, { cwd: opts.repo, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const node = { name, dir, proc, logPath, exited: null, url: null, tail: '' };
  const keep = (chunk) => {
    log.write(chunk);
    node.tail = (node.tail + chunk.toString()).slice(-4000);
  };
  proc.stdout.on('data', keep);
  proc.stderr.on('data', keep);
  proc.on('exit', (code, signal) => {
    node.exited = { code, signal };
    log.end();
  });
  proc.on('error', (e) => {
    node.exited = { code: -1, signal: null, error: e.message };
  });
  const started = async () => {
    const info = await waitFor(`node ${name} to write node.json`, async () => {
      if (node.exited) throw new Fatal(`node ${name} exited (${JSON.stringify(node.exited)}):\n${node.tail}`);
      try {
        const j = JSON.parse(await fsp.readFile(path.join(dir, 'node.json'), 'utf8'));
        return j.http_port ? j : null;
      } catch {
        return null;
      }
    }, { timeoutMs: 180000, intervalMs: 100 });
    node.url = `http://127.0.0.1:${info.http_port}`;
    await waitFor(`node ${name} to be ready`, async () => {
      if (node.exited) throw new Fatal(`node ${name} exited (${JSON.stringify(node.exited)}):\n${node.tail}`);
      const res = await fetch(`${node.url}/ready`).catch(() => null);
      return res && res.status === 200;
    }, { timeoutMs: 180000, intervalMs: 200 });
    return node;
  };
  node.ready = started();
  node.ready.catch(() => {}); // reported where it is awaited
  return node;
}

export async function stopNode(node) {
  if (!node) return;
  const { proc } = node;
  if (!node.exited && proc.exitCode === null) {
    proc.kill('SIGINT');
    const exited = await Promise.race([
      once(proc, 'exit').then(() => true),
      new Promise((r) => setTimeout(() => r(false), 30000)),
    ]);
    if (!exited) {
      console.error(`browser_ui: node ${node.name} ignored SIGINT for 30 s; killing it`);
      proc.kill('SIGKILL');
      await Promise.race([once(proc, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
    }
  }
  await stopOrphanPostgres(node);
  await fsp.rm(node.dir, { recursive: true, force: true }).catch((e) =>
    console.error(`browser_ui: cannot remove ${node.dir}: ${e.message}`));
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

/**
 * A node that had to be killed leaves its private PostgreSQL running (it
 * stops it only on a clean exit): stop that postmaster (SIGQUIT: immediate
 * shutdown, then SIGKILL), found by the pid file in the node's data dir.
 */
async function stopOrphanPostgres(node) {
  let pid = null;
  try {
    const text = await fsp.readFile(path.join(node.dir, 'pg', 'postmaster.pid'), 'utf8');
    pid = Number(text.split('\n')[0]);
  } catch {
    return; // no cluster, or it was stopped
  }
  if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
  console.error(`browser_ui: stopping the PostgreSQL node ${node.name} left behind (pid ${pid})`);
  for (const [sig, ms] of [['SIGQUIT', 10000], ['SIGKILL', 5000]]) {
    try {
      process.kill(pid, sig);
    } catch {
      return;
    }
    const gone = await waitFor(`postgres ${pid} to exit`, () => !alive(pid), { timeoutMs: ms, intervalMs: 100 })
      .then(() => true, () => false);
    if (gone) return;
  }
}
