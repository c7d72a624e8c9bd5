import { defineConfig } from 'tsup';

export default defineConfig({
  // graph-worker: the worker thread of GlmModel (thread: 'worker'), found beside the bundle at run time.
  entry: { index: 'src/index.ts', cli: 'src/cli/main.ts', 'graph-worker': 'src/models/graph-worker.ts', server: 'src/server/index.ts', 'ai-sdk': 'src/ai-sdk/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Native and WebAssembly dependencies are resolved at run time, never bundled.
  external: ['onnxruntime-node', '@huggingface/transformers', '@mlc-ai/web-xgrammar', 'pdf-parse'],
});
