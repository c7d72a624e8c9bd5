/**
 * Argument handling of `autoglm`, in process through `main` (fast): usage errors exit 2 with the typed message,
 * `pull` validates before touching the network, and `pull` is the only code that enables remote model loading.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parsePullArguments } from '../../src/cli/pull-command';
import { callMain, repositoryRoot } from './run-cli';

const call = (args: string[]) => callMain(args, { cwd: repositoryRoot, env: { AUTOGLM_CACHE_DIR: '/nonexistent-autoglm-cache' } });

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const file = path.join(directory, name);
    return statSync(file).isDirectory() ? sourceFiles(file) : file.endsWith('.ts') ? [file] : [];
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('autoglm main', () => {
  it('prints the help with exit 0, and exits 2 with the help when no command is given', async () => {
    expect(await call(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: autoglm <command>') });
    expect(await call([])).toMatchObject({ code: 2, stdout: expect.stringContaining('Commands:') });
    expect(await call(['run', '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('--checkpoint-dir DIR') });
    expect(await call(['model', 'create-tiny', '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('--family glm|glm4') });
  });

  it.each([
    [['frobnicate'], /USAGE: Unknown command "frobnicate"/],
    [['model', 'melt', 'x'], /USAGE: Unknown command "model melt"/],
    [['run'], /USAGE: run: expected one workflow file, got none/],
    [['run', 'a.yaml', 'b.yaml'], /USAGE: run: expected one workflow file, got a.yaml b.yaml/],
    [['run', 'examples/financial-report/workflow.yaml', '--resume', 'r1'], /USAGE: run: --resume needs --checkpoint-dir/],
    [['run', 'examples/financial-report/workflow.yaml', '--input', 'novalue'], /USAGE: run: --input expects key=value, got "novalue"/],
    [['run', 'examples/financial-report/workflow.yaml', '--input', 'maxSteps=two'], /USAGE: run: --input maxSteps is declared as integer; give it as JSON/],
    [['run', 'examples/financial-report/workflow.yaml', '--input', 'maxStpes=2'], /USAGE: run: --input maxStpes: unknown input "maxStpes" \(did you mean "maxSteps"\?\); allowed: .*maxSteps/],
    [['agent', '--task', 'summarize_financial_report', '--input-file', 'missing.pdf'], /USAGE: agent: --input-file .*missing\.pdf cannot be read \(ENOENT\); give an existing file\./],
    [['agent', '--task', 'x', '--input-file', 'examples'], /USAGE: agent: --input-file .*examples is not a regular file/],
    [['run', 'missing.yaml'], /WORKFLOW_SPEC: Cannot read workflow file .*missing\.yaml/],
    [['agent'], /USAGE: agent: --task is required/],
    [['agent', '--task', 'x'], /USAGE: agent: give --input-file F or the request text/],
    [['agent', '--task', 'x', '--max-steps', '0', 'hi'], /USAGE: agent: --max-steps must be an integer >= 1, got "0"/],
    [['model', 'create-tiny', '/tmp/x', '--family', 'gpt'], /USAGE: model create-tiny: --family must be glm or glm4/],
    [['model', 'inspect'], /USAGE: model inspect: expected one model directory/],
    [['pull'], /USAGE: pull: expected one hub repository id/],
    [['pull', '../etc/passwd'], /USAGE: pull: "..\/etc\/passwd" is not a hub repository id/],
    [['pull', 'THUDM/glm-edge', '--dtype', 'q3'], /USAGE: pull: --dtype must be one of fp32, fp16, q8, .*got "q3"/],
    [['pull', 'THUDM/glm-edge', '--revision', '../main'], /USAGE: pull: --revision "..\/main" is not a branch/],
  ])('%j exits 2 with the typed message, no stack', async (args, message) => {
    const fetchSpy = vi.fn(() => Promise.reject(new Error('network used')));
    vi.stubGlobal('fetch', fetchSpy);
    const result = await call(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^autoglm: [A-Z_]+: /);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('a model directory that does not exist is a failed run (exit 1), with the typed message', async () => {
    const result = await call(['model', 'inspect', '/nonexistent-autoglm-model']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^autoglm: MODEL_LOAD: Model directory not found: \/nonexistent-autoglm-model/);
  });

  it('pull resolves its defaults: q4, main, a folder under the cache named after the repository', () => {
    const context = { stdout: new PassThrough(), stderr: new PassThrough(), cwd: '/work/project', env: { AUTOGLM_CACHE_DIR: '/cache' } };
    expect(parsePullArguments(['onnx-community/glm-edge-1.5b-chat-ONNX'], context)).toEqual({
      repoId: 'onnx-community/glm-edge-1.5b-chat-ONNX',
      dtype: 'q4',
      revision: 'main',
      directory: '/cache/models/onnx-community--glm-edge-1.5b-chat-ONNX',
      json: false,
    });
    expect(parsePullArguments(['a/b', '--dtype', 'fp16', '--dir', 'models/b', '--json'], context)).toMatchObject({ dtype: 'fp16', directory: '/work/project/models/b', json: true });
  });

  it('pull is the only source file that enables remote model loading', () => {
    const enabling = sourceFiles(path.join(repositoryRoot, 'src')).filter((file) => /allowRemoteModels\s*=\s*true/.test(readFileSync(file, 'utf8')));
    expect(enabling.map((file) => path.relative(repositoryRoot, file))).toEqual([path.join('src', 'models', 'pull-model.ts')]);
    // The status page's script runs in the browser, not in Node, and its CSP limits it to its own server (connect-src 'self').
    const browserCode = new Set([path.join(repositoryRoot, 'src', 'server', 'status-page-html.ts')]);
    const fetching = sourceFiles(path.join(repositoryRoot, 'src')).filter((file) => !browserCode.has(file) && /\bfetch\(/.test(readFileSync(file, 'utf8')));
    expect(fetching.map((file) => path.relative(repositoryRoot, file))).toEqual([path.join('src', 'models', 'pull-model.ts')]);
  });
});

describe('autoglm --version', () => {
  it('prints the package version', async () => {
    const packageJson = JSON.parse(readFileSync(path.join(repositoryRoot, 'package.json'), 'utf8')) as { version: string };
    expect(await call(['--version'])).toMatchObject({ code: 0, stdout: `${packageJson.version}\n` });
  });
});
