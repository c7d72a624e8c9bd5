/**
 * `autoglm model inspect <DIR>`: what a model directory holds (family, shapes, files, dtypes, graph I/O), without
 * generating anything.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describeChatFormat } from '../models/chat-format/chat-format';
import { GlmTokenizer } from '../models/glm-tokenizer';
import { ModelFormatError, UsageError } from '../errors';
import { parseModelConfig } from '../models/model-config';
import { DTYPE_SUFFIXES, resolveModelFiles, type ModelDtype } from '../models/model-files';
import { OnnxBackend, type TensorMetadata } from '../models/onnx-backend';
import { exitCodes, type CliContext } from './cli-context';
import { parseCommandLine } from './parse-command-line';

export const modelInspectHelp = `Usage: autoglm model inspect <DIR> [--dtype D] [--json]

Prints a model directory's family, shapes (layers, heads, hidden size, vocabulary, context), files with sizes,
the dtypes present in onnx/, and the ONNX graph's inputs and outputs.

Options:
  --dtype D   Which graph to open (${Object.keys(DTYPE_SUFFIXES).join(', ')}; default: the first present)
  --json      Print JSON ({ family, ... })
  -h, --help  Show this help`;

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new ModelFormatError(`Cannot parse ${file}: ${(cause as Error).message}.`, { cause, details: { file } });
  }
}

function listFiles(directory: string, prefix = ''): Array<{ path: string; bytes: number }> {
  const files: Array<{ path: string; bytes: number }> = [];
  for (const entry of readdirSync(path.join(directory, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(directory, relative));
    else if (entry.isFile()) files.push({ path: relative, bytes: statSync(path.join(directory, relative)).size });
  }
  return files;
}

/** Dtypes with a graph in onnx/ (model.onnx is fp32, model_q4.onnx is q4, ...). */
function presentDtypes(directory: string): ModelDtype[] {
  return (Object.entries(DTYPE_SUFFIXES) as Array<[ModelDtype, string]>)
    .filter(([, suffix]) => existsSync(path.join(directory, 'onnx', `model${suffix}.onnx`)))
    .map(([dtype]) => dtype);
}

const describeTensor = ({ name, type, shape }: TensorMetadata) => ({ name, type, shape: [...shape] });

export async function modelInspectCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseCommandLine('model inspect', args, { dtype: { type: 'string' }, json: { type: 'boolean' } });
  if (values.help) {
    context.stdout.write(`${modelInspectHelp}\n`);
    return exitCodes.ok;
  }
  if (positionals.length !== 1) throw new UsageError('model inspect: expected one model directory.');
  if (values.dtype !== undefined && !(values.dtype in DTYPE_SUFFIXES)) {
    throw new UsageError(`model inspect: --dtype must be one of ${Object.keys(DTYPE_SUFFIXES).join(', ')}, got "${values.dtype}".`);
  }
  const files = resolveModelFiles(path.resolve(context.cwd, positionals[0]!), values.dtype === undefined ? {} : { dtype: values.dtype as ModelDtype });
  const config = parseModelConfig(
    readJson(files.configFile),
    files.configFile,
    files.generationConfigFile === undefined ? undefined : readJson(files.generationConfigFile),
    files.generationConfigFile,
  );
  // Inspecting must work on a directory whose tokenizer this runtime cannot load (it says so instead).
  const tokenizer = await GlmTokenizer.load(files.directory).catch((error: unknown) => error as Error);
  const chatFormat =
    !(tokenizer instanceof Error) && tokenizer.hasChatTemplate ? { ...tokenizer.chatFormatFor(true), stopTokenIds: config.info.eosTokenIds } : undefined;
  // Graph metadata only: no optimisation pass, so large graphs open quickly.
  const backend = await OnnxBackend.load(files.onnxFile, { graphOptimizationLevel: 'disabled' });
  let report;
  try {
    report = {
      directory: files.directory,
      ...config.info,
      dtype: files.dtype,
      dtypes: presentDtypes(files.directory),
      generationDefaults: config.generationDefaults,
      chatFormat: chatFormat ?? null,
      files: listFiles(files.directory),
      graph: {
        file: path.relative(files.directory, files.onnxFile),
        inputs: [...backend.inputs.values()].map(describeTensor),
        outputs: [...backend.outputs.values()].map(describeTensor),
      },
    };
  } finally {
    await backend.dispose();
  }
  if (values.json) {
    context.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return exitCodes.ok;
  }
  const { info } = { info: config.info };
  const lines = [
    `Model ${report.directory}`,
    `  family        ${info.family}`,
    `  layers        ${info.layers}, hidden ${info.hiddenSize}, heads ${info.heads} (kv ${info.kvHeads}), head dim ${info.headDim}`,
    `  vocabulary    ${info.vocabSize}, context ${info.contextLength}, eos ${info.eosTokenIds.join(', ')}`,
    `  dtypes        ${report.dtypes.join(', ')} (opened ${report.dtype})`,
    tokenizer instanceof Error
      ? `  chat format   unknown (${tokenizer.message})`
      : chatFormat === undefined
        ? '  chat format   none (no chat template: string prompts and token ids only)'
      : `  chat format   ${describeChatFormat(chatFormat)}; stop ids ${chatFormat.stopTokenIds.join(', ')}`,
    '  files',
    ...report.files.map((file) => `    ${file.path.padEnd(36)} ${file.bytes.toLocaleString('en-US')} bytes`),
    `  graph ${report.graph.file}`,
    ...report.graph.inputs.map((tensor) => `    in  ${tensor.name}: ${tensor.type} [${tensor.shape.join(', ')}]`),
    ...report.graph.outputs.map((tensor) => `    out ${tensor.name}: ${tensor.type} [${tensor.shape.join(', ')}]`),
  ];
  context.stdout.write(`${lines.join('\n')}\n`);
  return exitCodes.ok;
}
