/**
 * The files of a model directory, in the Optimum / transformers.js layout (`onnx/model{suffix}.onnx`, a dtype
 * selects the graph) or onnxruntime-genai's (`genai_config.json` naming one graph at the top level): which exist,
 * which graph to load, and which external data files sit beside it.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelFormatError, ModelLoadError, TokenizerError } from '../errors';
import { parseGenaiConfig, type GenaiDecoderConfig } from './genai-config';

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
  /** `optimum`: onnx/model{suffix}.onnx; `genai`: the graph genai_config.json names. */
  layout: 'optimum' | 'genai';
  /** The Optimum dtype of the graph; undefined in the genai layout (one graph, whatever its weights). */
  dtype: ModelDtype | undefined;
  onnxFile: string;
  /**
   * `model.onnx_data`, `model.onnx_data_1`, ... (`model.onnx.data` in the genai layout) beside the graph (ONNX
   * Runtime reads them through the graph's path).
   */
  externalDataFiles: string[];
  /** The parsed genai_config.json, in the genai layout. */
  genai: GenaiDecoderConfig | undefined;
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
  if (!existsSync(tokenizerFile) && existsSync(join(dir, 'tokenizer.model'))) {
    throw new TokenizerError(
      `Missing tokenizer.json in model directory ${dir}, which has a tokenizer.model (ChatGLM3's SentencePiece tokenizer): run \`autoglm model convert ${dir}\` once to write tokenizer.json.`,
      { details: { directory: dir, file: tokenizerFile } },
    );
  }
  for (const file of [tokenizerFile, tokenizerConfigFile]) {
    if (!existsSync(file)) {
      throw new TokenizerError(`Missing ${file.slice(dir.length + 1)} in model directory ${dir}; the tokenizer cannot be loaded.`, {
        details: { directory: dir, file },
      });
    }
  }
  requireRegularFiles(dir, [configFile, tokenizerFile, tokenizerConfigFile]);
  const generationConfigFile = join(dir, 'generation_config.json');
  const onnxDir = join(dir, 'onnx');
  const available = DTYPE_PREFERENCE.filter((dtype) => existsSync(onnxPath(onnxDir, dtype)));

  const genaiConfigFile = join(dir, 'genai_config.json');
  if (available.length === 0 && existsSync(genaiConfigFile)) {
    if (options.dtype !== undefined) {
      throw new ModelLoadError(
        `${dir} is in the onnxruntime-genai layout (genai_config.json names its one graph), so dtype '${options.dtype}' cannot select a graph. Leave dtype unset.`,
        { details: { directory: dir, file: genaiConfigFile, field: 'dtype' } },
      );
    }
    return resolveGenaiFiles(dir, genaiConfigFile, {
      directory: dir,
      configFile,
      generationConfigFile: existsSync(generationConfigFile) ? generationConfigFile : undefined,
      tokenizerFile,
      tokenizerConfigFile,
    });
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
  requireRegularFiles(dir, [onnxFile]);
  return {
    directory: dir,
    configFile,
    generationConfigFile: existsSync(generationConfigFile) ? generationConfigFile : undefined,
    tokenizerFile,
    tokenizerConfigFile,
    layout: 'optimum',
    dtype,
    onnxFile,
    externalDataFiles: findExternalData(onnxDir, `model${DTYPE_SUFFIXES[dtype]}.onnx`, '_data'),
    genai: undefined,
  };
}

function resolveGenaiFiles(
  dir: string,
  genaiConfigFile: string,
  common: Pick<ModelFiles, 'directory' | 'configFile' | 'generationConfigFile' | 'tokenizerFile' | 'tokenizerConfigFile'>,
): ModelFiles {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(genaiConfigFile, 'utf8'));
  } catch (error) {
    throw new ModelFormatError(`${genaiConfigFile} is not readable JSON: ${(error as Error).message}`, {
      cause: error,
      details: { file: genaiConfigFile },
    });
  }
  const genai = parseGenaiConfig(json, genaiConfigFile);
  const onnxFile = join(dir, genai.filename);
  if (!existsSync(onnxFile)) {
    throw new ModelLoadError(`Missing ${onnxFile}, the graph that ${genaiConfigFile} names in model.decoder.filename.`, {
      details: { directory: dir, file: onnxFile, field: 'model.decoder.filename' },
    });
  }
  requireRegularFiles(dir, [onnxFile]);
  const slash = genai.filename.lastIndexOf('/');
  const graphDir = slash < 0 ? dir : join(dir, genai.filename.slice(0, slash));
  const graphName = genai.filename.slice(slash + 1);
  return {
    ...common,
    layout: 'genai',
    dtype: undefined,
    onnxFile,
    externalDataFiles: findExternalData(graphDir, graphName, '.data'),
    genai,
  };
}

/** A folder (or FIFO, ...) where a file belongs fails here, named, instead of as a raw EISDIR inside a loader. */
function requireRegularFiles(dir: string, files: string[]): void {
  for (const file of files) {
    if (statSync(file).isFile()) continue;
    const kind = statSync(file).isDirectory() ? 'a folder' : 'not a regular file';
    throw new ModelLoadError(`${file} in model directory ${dir} is ${kind}; it must be a file. Replace it with the model's ${file.slice(dir.length + 1)}.`, {
      details: { directory: dir, file },
    });
  }
}

function onnxPath(onnxDir: string, dtype: ModelDtype): string {
  return join(onnxDir, `model${DTYPE_SUFFIXES[dtype]}.onnx`);
}

function findExternalData(onnxDir: string, graphName: string, suffix: '_data' | '.data'): string[] {
  const pattern = new RegExp(`^${`${graphName}${suffix}`.replace(/\./g, '\\.')}(_\\d+)?$`);
  return readdirSync(onnxDir)
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => join(onnxDir, name));
}
