import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionOptionsFor } from '../../src/models/onnx-backend';
import { graphNeedsPrepacking } from '../../src/models/prepacking';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'memory-options-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('sessionOptionsFor: what reaches the ONNX Runtime session', () => {
  it('pre-packing off becomes the session.disable_prepacking config entry', () => {
    expect(sessionOptionsFor('cpu', { prepacking: false }).extra).toEqual({ session: { disable_prepacking: '1' } });
  });

  it('pre-packing on or unset leaves ONNX Runtime its default (no config entry)', () => {
    expect(sessionOptionsFor('cpu', { prepacking: true }).extra).toBeUndefined();
    expect(sessionOptionsFor('cpu').extra).toBeUndefined();
  });

  it('keeps provider, optimisation level and threads', () => {
    expect(sessionOptionsFor('cpu', { threads: 2, graphOptimizationLevel: 'basic', prepacking: false })).toEqual({
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'basic',
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      extra: { session: { disable_prepacking: '1' } },
    });
    expect(sessionOptionsFor('cuda')).toEqual({ executionProviders: ['cuda'], graphOptimizationLevel: 'all' });
  });
});

describe('graphNeedsPrepacking', () => {
  const graph = async (name: string, text: string) => {
    const file = path.join(root, name);
    await writeFile(file, Buffer.from(`\u0008\u0007${text}\u0000`, 'latin1'));
    return file;
  };

  it('quantized dtypes keep pre-packing without reading the graph', () => {
    for (const dtype of ['q4', 'q4f16', 'q8', 'int8', 'uint8', 'bnb4'] as const) {
      expect(graphNeedsPrepacking({ dtype, onnxFile: path.join(root, 'absent.onnx') })).toBe(true);
    }
  });

  it('float graphs without quantized ops turn it off', async () => {
    const file = await graph('float.onnx', 'MatMul Gemm GroupQueryAttention Gather SimplifiedLayerNormalization');
    expect(graphNeedsPrepacking({ dtype: 'fp32', onnxFile: file })).toBe(false);
    expect(graphNeedsPrepacking({ dtype: 'fp16', onnxFile: file })).toBe(false);
    expect(graphNeedsPrepacking({ dtype: undefined, onnxFile: file })).toBe(false);
  });

  it('a genai graph (no dtype) with quantized ops keeps it', async () => {
    for (const op of ['MatMulNBits', 'MatMulInteger', 'DynamicQuantizeLinear', 'QLinearMatMul']) {
      const file = await graph(`${op}.onnx`, `MatMul ${op} Gather`);
      expect(graphNeedsPrepacking({ dtype: undefined, onnxFile: file })).toBe(true);
    }
  });

  it('an unreadable graph keeps ONNX Runtime\'s default', () => {
    expect(graphNeedsPrepacking({ dtype: undefined, onnxFile: path.join(root, 'absent.onnx') })).toBe(true);
  });
});
