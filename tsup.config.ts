import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli/main.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Native and WebAssembly dependencies are resolved at run time, never bundled.
  external: ['onnxruntime-node', '@huggingface/transformers', '@mlc-ai/web-xgrammar', 'pdf-parse'],
});
