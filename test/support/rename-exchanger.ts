/**
 * A child process that atomically swaps two directory entries (renameat2 RENAME_EXCHANGE) in a tight loop, the way
 * an attacker with write access inside a sandbox root races a path check. python3's ctypes reaches renameat2 in libc;
 * Node has no binding for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const script = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
a, b = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
sys.stdout.write('ready\\n'); sys.stdout.flush()
swaps = 0
while True:
    if libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        sys.stderr.write('renameat2: ' + os.strerror(ctypes.get_errno()) + '\\n'); sys.exit(1)
    swaps += 1
`;

export interface RenameExchanger {
  stop(): Promise<void>;
}

/** Starts swapping `a` and `b` and resolves once the loop runs. `stop()` kills the child and waits for it. */
export async function startRenameExchanger(a: string, b: string): Promise<RenameExchanger> {
  const child: ChildProcess = spawn('python3', ['-c', script, a, b], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`rename exchanger exited early (${code}): ${stderr}`)));
    child.stdout!.once('data', () => resolve());
  });
  child.removeAllListeners('exit');
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
