/**
 * How many sequences a model runs at once when GlmModel.load is not told (`sequences`), and the bound on the KV
 * bytes its slots keep (`maxKvBytes`). The rule: the KV budget is a quarter of the machine's memory
 * (os.totalmem() / 4); the default number of slots is how many sequences of the full context length fit in that
 * budget, at least 1 and at most DEFAULT_MAX_SEQUENCES (8: past that, a CPU step stops getting cheaper per row).
 * GlmModel.load asks for this default only for graphs that pre-pack their weights (quantized, or `prepacking: true`);
 * float weights run 1 sequence unless `sequences` says otherwise (batching them needs pre-packing: twice the bytes).
 */
import os from 'node:os';
import { ModelLoadError } from '../../errors';
import type { ModelInfo } from '../language-model';

/** The most sequences a default chooses. */
export const DEFAULT_MAX_SEQUENCES = 8;
/** The most sequences `sequences` accepts. */
export const MAX_SEQUENCES = 64;

/** Bytes of keys and values one token takes in the cache. */
export function kvBytesPerToken(info: Pick<ModelInfo, 'layers' | 'kvHeads' | 'headDim'>, kvType: 'float32' | 'float16'): number {
  return info.layers * 2 * info.kvHeads * info.headDim * (kvType === 'float16' ? 2 : 4);
}

export interface SequenceSettings {
  sequences: number;
  maxKvBytes: number;
  bytesPerToken: number;
}

type SequenceOptions = { sequences?: number | undefined; maxKvBytes?: number | undefined };

/** Refuses a `sequences` or `maxKvBytes` GlmModel.load cannot use (before anything is loaded). */
export function checkSequenceOptions({ sequences, maxKvBytes }: SequenceOptions): void {
  if (sequences !== undefined && (!Number.isInteger(sequences) || sequences < 1 || sequences > MAX_SEQUENCES)) {
    throw new ModelLoadError(`GlmModel.load: sequences must be an integer from 1 to ${MAX_SEQUENCES} (sequences run at once, one KV slot each), got ${sequences}.`, {
      details: { field: 'sequences', value: sequences },
    });
  }
  if (maxKvBytes !== undefined && (!Number.isFinite(maxKvBytes) || maxKvBytes <= 0)) {
    throw new ModelLoadError(`GlmModel.load: maxKvBytes must be a positive number of bytes, got ${maxKvBytes}.`, {
      details: { field: 'maxKvBytes', value: maxKvBytes },
    });
  }
}

/** The resolved `sequences` and `maxKvBytes` of a load (the caller's, checked, or the defaults above). */
export function resolveSequenceSettings(
  options: SequenceOptions,
  info: Pick<ModelInfo, 'layers' | 'kvHeads' | 'headDim' | 'contextLength'>,
  kvType: 'float32' | 'float16',
): SequenceSettings {
  checkSequenceOptions(options);
  const { sequences, maxKvBytes } = options;
  const bytesPerToken = kvBytesPerToken(info, kvType);
  const budget = maxKvBytes ?? Math.floor(os.totalmem() / 4);
  const fitting = Math.floor(budget / (bytesPerToken * info.contextLength));
  return {
    sequences: sequences ?? Math.max(1, Math.min(DEFAULT_MAX_SEQUENCES, fitting)),
    maxKvBytes: budget,
    bytesPerToken,
  };
}
