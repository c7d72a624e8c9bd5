/**
 * The one file of autoglm that imports onnxruntime-node: session creation, execution providers, tensors and the
 * graph's input/output metadata. Everything else in models/ talks to ONNX Runtime through this file's types.
 *
 * The runtime is loaded at first use, never when autoglm is imported: its native binding costs about a second and
 * fails outright where no binary exists, which must not break programs that only use tools or workflows.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { ModelFormatError, ModelLoadError } from '../errors';
import { moduleUrl } from '../module-url';
import { silentLogger, type Logger } from '../observability/logger';

type OnnxRuntime = typeof Ort;
let runtime: OnnxRuntime | undefined;

/**
 * onnxruntime-node, loaded on the first call. It is a CommonJS package, so a synchronous require gives the same
 * module instance an import would, and keeps `createTensor` and `isCudaProviderInstalled` synchronous.
 */
export function onnxRuntime(): OnnxRuntime {
  if (runtime) return runtime;
  try {
    runtime = createRequire(moduleUrl(import.meta.url))('onnxruntime-node') as OnnxRuntime;
  } catch (error) {
    throw new ModelLoadError(
      `Cannot load onnxruntime-node (ONNX Runtime's Node binding): ${error instanceof Error ? error.message : String(error)}. ` +
        'Install it with `npm install onnxruntime-node` (CPU only: `ONNXRUNTIME_NODE_INSTALL=skip npm install`; CUDA 12: ' +
        '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm install`) on a platform it ships binaries for.',
      { cause: error, details: { package: 'onnxruntime-node', platform: `${process.platform}/${process.arch}` } },
    );
  }
  return runtime;
}

export type OrtTensor = Ort.Tensor;
export type OrtTensorType = Ort.Tensor.Type;

/** Where the model runs. `cuda` needs the CUDA provider binaries (`ONNXRUNTIME_NODE_INSTALL=cuda12 npm install`). */
export type ExecutionProvider = 'cpu' | 'cuda';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface OnnxBackendOptions {
  /** Execution provider. Defaults to 'cpu'. */
  executionProvider?: ExecutionProvider;
  /** With 'cpu', a CUDA request on a machine without the CUDA provider runs on CPU (with a warning) instead of failing. Defaults to no fallback. */
  fallback?: 'cpu';
  /** Intra-op threads. Defaults to ONNX Runtime's choice (the physical cores). */
  threads?: number;
  /** ONNX Runtime graph optimisation level. Defaults to 'all'. */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Where load decisions (provider fallback) are logged. Defaults to a silent logger. */
  logger?: Logger;
  /**
   * ONNX Runtime's weight pre-packing: at load, kernels copy constant weights into their own blocked layout
   * (config key `session.disable_prepacking` when false). Quantized kernels need it (MatMulNBits runs about 100x
   * slower without). For fp32 MatMul / Gemm it is a second, anonymous-memory copy of the weights, while the
   * memory-mapped originals of external data stay resident wherever another node (a tied embedding's Gather) reads
   * them; without it, single-token steps read the mapped weights directly (MLAS has an unpacked M = 1 kernel).
   * Defaults to true (ONNX Runtime's default).
   */
  prepacking?: boolean;
}

/** Type and shape of one graph input or output; symbolic dimensions are strings. */
export interface TensorMetadata {
  name: string;
  type: OrtTensorType;
  shape: readonly (number | string)[];
}

export const CUDA_INSTALL_FIX = 'ONNXRUNTIME_NODE_INSTALL=cuda12 npm install';

/** True when this onnxruntime-node install carries the CUDA execution provider library. */
export function isCudaProviderInstalled(): boolean {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  if (!onnxRuntime().listSupportedBackends().some((backend) => backend.name === 'cuda')) return false;
  const require = createRequire(moduleUrl(import.meta.url));
  const binding = join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', 'linux', 'x64');
  return existsSync(join(binding, 'libonnxruntime_providers_cuda.so'));
}

/** A loaded ONNX Runtime session with its I/O metadata. */
export class OnnxBackend {
  readonly modelPath: string;
  /** The provider the session actually runs on (differs from the request after a CPU fallback). */
  readonly executionProvider: ExecutionProvider;
  readonly inputs: ReadonlyMap<string, TensorMetadata>;
  readonly outputs: ReadonlyMap<string, TensorMetadata>;
  #session: Ort.InferenceSession | undefined;

  private constructor(modelPath: string, session: Ort.InferenceSession, executionProvider: ExecutionProvider) {
    this.modelPath = modelPath;
    this.executionProvider = executionProvider;
    this.#session = session;
    this.inputs = readMetadata(session.inputMetadata, modelPath);
    this.outputs = readMetadata(session.outputMetadata, modelPath);
  }

  /**
   * Loads the graph from its file path, so that external data files (`model.onnx_data`) beside it are found.
   * Throws ModelLoadError (missing file, unavailable provider) or ModelFormatError (bytes ONNX Runtime rejects).
   */
  static async load(modelPath: string, options: OnnxBackendOptions = {}): Promise<OnnxBackend> {
    const logger = options.logger ?? silentLogger();
    if (!existsSync(modelPath)) {
      throw new ModelLoadError(`ONNX file not found: ${modelPath}.`, { details: { file: modelPath } });
    }
    let provider: ExecutionProvider = options.executionProvider ?? 'cpu';
    if (provider === 'cuda' && !isCudaProviderInstalled()) {
      const reason = `the CUDA execution provider is not installed in onnxruntime-node on this machine (${process.platform}/${process.arch})`;
      if (options.fallback !== 'cpu') {
        throw new ModelLoadError(
          `Cannot run ${modelPath} on 'cuda': ${reason}. On Linux x64 with CUDA 12, reinstall with \`${CUDA_INSTALL_FIX}\`, ` +
            `or pass { executionProvider: 'cpu' } or { fallback: 'cpu' }.`,
          { details: { file: modelPath, executionProvider: 'cuda', fix: CUDA_INSTALL_FIX } },
        );
      }
      logger.warn({ modelPath, fix: CUDA_INSTALL_FIX }, `CUDA requested but ${reason}; running on CPU`);
      provider = 'cpu';
    }
    try {
      const session = await onnxRuntime().InferenceSession.create(modelPath, sessionOptionsFor(provider, options));
      return new OnnxBackend(modelPath, session, provider);
    } catch (error) {
      throw classifyLoadError(error, modelPath, provider);
    }
  }

  /** Runs the graph. `fetches` may hold pre-allocated output tensors (null lets ONNX Runtime allocate). */
  async run(
    feeds: Record<string, OrtTensor>,
    fetches?: Record<string, OrtTensor | null>,
  ): Promise<Record<string, OrtTensor>> {
    const session = this.#session;
    if (!session) throw new ModelLoadError(`The ONNX session of ${this.modelPath} was disposed.`);
    const result = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
    return result as Record<string, OrtTensor>;
  }

  async dispose(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.release();
  }
}

/** The ONNX Runtime session options of a load on `provider` (exported for tests: what reaches the session). */
export function sessionOptionsFor(provider: ExecutionProvider, options: OnnxBackendOptions = {}): Ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: options.graphOptimizationLevel ?? 'all',
    ...(options.threads === undefined ? {} : { intraOpNumThreads: options.threads, interOpNumThreads: 1 }),
    // The Node binding passes `extra` through as session config entries (onnxruntime_session_options_config_keys.h).
    ...(options.prepacking === false ? { extra: { session: { disable_prepacking: '1' } } } : {}),
  };
}

/** A tensor over an existing typed array (no copy). */
export function createTensor(type: OrtTensorType, data: Ort.Tensor.DataType, dims: readonly number[]): OrtTensor {
  return new (onnxRuntime().Tensor)(type, data as never, dims);
}

function readMetadata(
  metadata: readonly Ort.InferenceSession.ValueMetadata[],
  modelPath: string,
): Map<string, TensorMetadata> {
  const map = new Map<string, TensorMetadata>();
  for (const entry of metadata) {
    if (!entry.isTensor) {
      throw new ModelFormatError(`Graph ${modelPath} has a non-tensor input or output '${entry.name}'.`, {
        details: { file: modelPath, name: entry.name },
      });
    }
    map.set(entry.name, { name: entry.name, type: entry.type, shape: entry.shape });
  }
  return map;
}

function classifyLoadError(error: unknown, modelPath: string, provider: ExecutionProvider): Error {
  const message = error instanceof Error ? error.message : String(error);
  const details = { file: modelPath, executionProvider: provider, ortMessage: message };
  if (provider === 'cuda' && /cuda|provider/i.test(message)) {
    return new ModelLoadError(
      `ONNX Runtime could not start the CUDA provider for ${modelPath}: ${message}. Check the CUDA 12 runtime, ` +
        `or reinstall with \`${CUDA_INSTALL_FIX}\`.`,
      { cause: error, details },
    );
  }
  if (/external|onnx_data|No such file|open file/i.test(message)) {
    return new ModelLoadError(
      `ONNX Runtime could not read the data of ${modelPath} (a missing or truncated external data file beside it?): ${message}`,
      { cause: error, details },
    );
  }
  return new ModelFormatError(
    `ONNX Runtime rejected ${modelPath} as an ONNX model (corrupt or truncated file?): ${message}. Re-export or re-download it.`,
    { cause: error, details },
  );
}
