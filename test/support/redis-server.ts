/**
 * A real Debian `redis-server` for tests: its own free port on 127.0.0.1, its own temporary data folder, no RDB
 * snapshots, optionally append-only persistence. `restart()` brings it back on the same port and folder (what a
 * Redis restart in production looks like to clients); `stop()` shuts it down and removes the folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServerOptions {
  /** `--appendonly yes` with `appendfsync always`: every write is on disk before Redis answers. Defaults to false. */
  appendOnly?: boolean;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Answers once a PING gets PONG (Redis loads its AOF before it answers). */
async function waitForPong(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let data = '';
      socket.setTimeout(500, () => socket.destroy());
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        data += chunk;
        if (data.includes('\r\n')) {
          socket.destroy();
          resolve(data.startsWith('+PONG'));
        }
      });
      socket.on('error', () => resolve(false));
      socket.on('close', () => resolve(data.startsWith('+PONG')));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export class RedisServer {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log = '';

  private constructor(
    readonly port: number,
    readonly dir: string,
    readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'autoglm-redis-'));
    const server = new RedisServer(await freePort(), dir, options);
    await server.#launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** What redis-server printed, for failure messages. */
  get log(): string {
    return this.#log;
  }

  async #launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir, '--daemonize', 'no'];
    if (this.options.appendOnly) args.push('--appendonly', 'yes', '--appendfsync', 'always');
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stdout!.on('data', (chunk) => (this.#log += chunk));
    child.stderr!.on('data', (chunk) => (this.#log += chunk));
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitForPong(this.port, Date.now() + 10_000);
  }

  /** Stops the server (SIGTERM: Redis finishes its AOF writes) and waits for it to exit; the data folder stays. */
  async halt(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.#child?.kill(signal);
    await this.#exited;
    this.#child = undefined;
  }

  /** Halts, then starts again on the same port and data folder after `downMs`. */
  async restart(downMs = 0): Promise<void> {
    await this.halt();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.#launch();
  }

  async stop(): Promise<void> {
    await this.halt('SIGKILL');
    await rm(this.dir, { recursive: true, force: true });
  }
}
