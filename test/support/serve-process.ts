import { spawn, type ChildProcess } from 'node:child_process';
import { bin, repositoryRoot } from '../cli/run-cli';

export interface ServedProcess {
  child: ChildProcess;
  /** The URL the server printed (`listening on http://...`). */
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts `autoglm serve --port 0 ...args` in a child process and resolves once it printed its URL. The child is
 * added to `children` until it exits, so a test's afterAll can kill whatever is left.
 */
export function spawnServe(args: string[], children: Set<ChildProcess>, env: NodeJS.ProcessEnv = process.env): Promise<ServedProcess> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'], env });
  children.add(child);
  let stderr = '';
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve({ child, url: match[1]!, stderr: () => stderr, exited });
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
}
