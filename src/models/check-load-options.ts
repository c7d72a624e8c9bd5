import { ModelLoadError } from '../errors';
import { assertKnownNames, assertOneOf } from '../strict-options';
import type { GlmModelLoadOptions } from './glm-model';
import type { ExecutionProvider } from './onnx-backend';
import { checkSequenceOptions } from './batching/sequence-defaults';

/** Every name GlmModelLoadOptions has; the `satisfies` keeps this list in step with the interface. */
const loadOptionNames = Object.keys({
  executionProvider: true,
  fallback: true,
  threads: true,
  graphOptimizationLevel: true,
  dtype: true,
  logger: true,
  prepacking: true,
  prefillChunkSize: true,
  runIn: true,
  history: true,
  sequences: true,
  maxKvBytes: true,
  onProgress: true,
} satisfies Record<keyof GlmModelLoadOptions, true>);

const executionProviders = Object.keys({ cpu: true, cuda: true } satisfies Record<ExecutionProvider, true>) as ExecutionProvider[];

/**
 * Refuses option names GlmModel.load does not know, and execution providers outside the supported set, before any
 * file is read (otherwise `executionProvider: 'webgpu'` reaches ONNX Runtime and reads as a corrupt model file).
 */
export function checkLoadOptions(options: GlmModelLoadOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ModelLoadError(`GlmModel.load: options must be an object, got ${JSON.stringify(options) ?? String(options)}.`);
  }
  assertKnownNames(options, loadOptionNames, { where: 'GlmModel.load options', error: ModelLoadError });
  if (options.executionProvider !== undefined) {
    assertOneOf(options.executionProvider, executionProviders, {
      where: 'GlmModel.load options',
      field: 'executionProvider',
      error: ModelLoadError,
      hint: 'autoglm runs ONNX Runtime for Node, whose binaries carry the CPU and (on linux-x64 with CUDA 12) the CUDA provider.',
    });
  }
  if (options.fallback !== undefined) {
    assertOneOf(options.fallback, ['cpu'], { where: 'GlmModel.load options', field: 'fallback', error: ModelLoadError });
  }
  checkSequenceOptions(options);
}
