/**
 * Issue 18 item 9: `onnx/model.onnx` being a folder failed deep inside the loader with a raw EISDIR. A real tiny GLM
 * directory is built, then one file at a time is replaced by a folder; `GlmModel.load` must fail with ModelLoadError
 * naming the file.
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/errors';
import { GlmModel } from '../../src/models/glm-model';
import { useTinyModelDirectory } from '../agent/onnx-helpers';

const tiny = useTinyModelDirectory('autoglm-broken-model-');

describe('a model directory with a folder where a file belongs', () => {
  it.each(['onnx/model.onnx', 'config.json', 'tokenizer.json'])('%s as a folder -> ModelLoadError naming it', async (file) => {
    const copy = `${tiny.directory}-${file.replace(/\W/g, '-')}`;
    await cp(tiny.directory, copy, { recursive: true });
    try {
      await rm(path.join(copy, file));
      await mkdir(path.join(copy, file));
      const error = await GlmModel.load(copy, { threads: 1 }).then(
        async (model) => {
          await model.dispose();
          return undefined;
        },
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ModelLoadError);
      expect((error as ModelLoadError).message).toContain(`${path.join(copy, file)} in model directory ${copy} is a folder`);
      expect((error as ModelLoadError).details).toMatchObject({ file: path.join(copy, file) });
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
