/**
 * The files of a model directory in the Optimum / transformers.js layout: which exist, which ONNX graph a dtype
 * selects, and which external data files sit beside it.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelLoadError, TokenizerError } from '../errors';

/** Weight formats of the Optimum layout, named as transformers.js names them. */
export type ModelDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'q4f16' | 'bnb4';

/** File name suffix of `onnx/model{suffix}.onnx` for each dtype (GLM.md section 3). */
export const DTYPE_SUFFIXES: Readonly<Record<ModelDtype, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** Order in which a dtype is chosen when the caller names none. */
const DTYPE_PREFERENCE: readonly ModelDtype[] = ['fp32', 'fp16', 'q8', 'q4f16', 'q4', 'int8', 'uint8', 'bnb4'];

export interface ModelFiles {
  directory: string;
  configFile: string;
  /** Absent in some exports: then only config.json gives the eos ids. */
  generationConfigFile: string | undefined;
  tokenizerFile: string;
  tokenizerConfigFile: string;
  dtype: ModelDtype;
  onnxFile: string;
  /** `model.onnx_data`, `model.onnx_data_1`, ... beside the graph (ONNX Runtime reads them through the graph's path). */
  externalDataFiles: string[];
}

export interface ResolveModelFilesOptions {
  /** Weight format to load. Defaults to the first present of fp32, fp16, q8, q4f16, q4, int8, uint8, bnb4. */
  dtype?: ModelDtype;
}

/** Validates a model directory and resolves the files to load. Names each missing file in the error. */
export function resolveModelFiles(directory: string, options: ResolveModelFilesOptions = {}): ModelFiles {
  const dir = resolve(directory);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelLoadError(`Model directory not found: ${dir}. Pass the directory that holds config.json and onnx/.`, {
      details: { directory: dir },
    });
  }
  const configFile = join(dir, 'config.json');
  if (!existsSync(configFile)) {
    throw new ModelLoadError(`Missing config.json in model directory ${dir}.`, { details: { directory: dir, file: configFile } });
  }
  const tokenizerFile = join(dir, 'tokenizer.json');
  const tokenizerConfigFile = join(dir, 'tokenizer_config.json');
  for (const file of [tokenizerFile, tokenizerConfigFile]) {
    if (!existsSync(file)) {
      throw new TokenizerError(`Missing ${file.slice(dir.length + 1)} in model directory ${dir}; the tokenizer cannot be loaded.`, {
        details: { directory: dir, file },
      });
    }
  }
  const generationConfigFile = join(dir, 'generation_config.json');
  const onnxDir = join(dir, 'onnx');
  const available = DTYPE_PREFERENCE.filter((dtype) => existsSync(onnxPath(onnxDir, dtype)));

  if (available.length === 0 && existsSync(join(dir, 'genai_config.json'))) {
    throw new ModelLoadError(
      `${dir} is in the onnxruntime-genai layout (genai_config.json, model.onnx at the top level), which GlmModel does ` +
        'not load yet. Use an export in the Optimum / transformers.js layout (onnx/model*.onnx).',
      { details: { directory: dir, file: join(dir, 'genai_config.json') } },
    );
  }
  let dtype = options.dtype;
  if (dtype === undefined) {
    dtype = available[0];
    if (dtype === undefined) {
      throw new ModelLoadError(`No ONNX graph in ${onnxDir}: expected onnx/model.onnx (or model_fp16.onnx, model_q4.onnx, ...).`, {
        details: { directory: dir, file: onnxPath(onnxDir, 'fp32') },
      });
    }
  } else if (!(dtype in DTYPE_SUFFIXES)) {
    throw new ModelLoadError(`Unknown dtype '${String(dtype)}'. Expected one of ${Object.keys(DTYPE_SUFFIXES).join(', ')}.`, {
      details: { field: 'dtype', value: dtype },
    });
  }
  const onnxFile = onnxPath(onnxDir, dtype);
  if (!existsSync(onnxFile)) {
    throw new ModelLoadError(
      `Missing ${onnxFile} for dtype '${dtype}'. Available dtypes here: ${available.join(', ') || 'none'}.`,
      { details: { directory: dir, file: onnxFile, dtype, available } },
    );
  }
  return {
    directory: dir,
    configFile,
    generationConfigFile: existsSync(generationConfigFile) ? generationConfigFile : undefined,
    tokenizerFile,
    tokenizerConfigFile,
    dtype,
    onnxFile,
    externalDataFiles: findExternalData(onnxDir, `model${DTYPE_SUFFIXES[dtype]}.onnx`),
  };
}

function onnxPath(onnxDir: string, dtype: ModelDtype): string {
  return join(onnxDir, `model${DTYPE_SUFFIXES[dtype]}.onnx`);
}

function findExternalData(onnxDir: string, graphName: string): string[] {
  const pattern = new RegExp(`^${graphName.replace(/\./g, '\\.')}_data(_\\d+)?$`);
  return readdirSync(onnxDir)
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => join(onnxDir, name));
}
