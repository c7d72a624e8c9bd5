/**
 * `autoglm model create-tiny <DIR>`: writes a complete GLM model directory with random weights (no download), for
 * trying the CLI, tests and benchmarks.
 */
import path from 'node:path';
import { UsageError } from '../errors';
import { createTinyGlm } from '../models/tiny/create-tiny-glm';
import type { TinyGlmOptions } from '../models/tiny/tiny-glm-options';
import { exitCodes, type CliContext } from './cli-context';
import { integerOption, parseCommandLine } from './parse-command-line';

export const modelCreateTinyHelp = `Usage: autoglm model create-tiny <DIR> [options]

Writes a GLM model directory with random weights (config.json, generation_config.json, tokenizer.json,
tokenizer_config.json, onnx/model.onnx): real architecture and layout, nonsense output. No download.

Options:
  --family glm|glm4      GLM-Edge / GLM-4-9B-chat-hf shape, or GLM-4-0414 (default glm)
  --layers N             Decoder layers (default 2)
  --hidden-size N        Hidden size (default 64)
  --heads N              Query heads (default 4)
  --kv-heads N           Key/value heads, dividing --heads (default 2)
  --intermediate-size N  MLP width (default 3 x hidden size)
  --vocab N              Vocabulary rows (default: the tokenizer's size)
  --tokenizer FILE       Use this tokenizer.json instead of the built-in byte-level BPE
  --seed N               Seed of the random weights (default 0)
  --json                 Print { directory, family, ... } as JSON
  -h, --help             Show this help`;

export async function modelCreateTinyCommand(args: string[], context: CliContext): Promise<number> {
  const command = 'model create-tiny';
  const { values, positionals } = parseCommandLine(command, args, {
    family: { type: 'string' },
    layers: { type: 'string' },
    'hidden-size': { type: 'string' },
    heads: { type: 'string' },
    'kv-heads': { type: 'string' },
    'intermediate-size': { type: 'string' },
    vocab: { type: 'string' },
    tokenizer: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    context.stdout.write(`${modelCreateTinyHelp}\n`);
    return exitCodes.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`${command}: expected one output directory.`);
  if (values.family !== undefined && values.family !== 'glm' && values.family !== 'glm4') {
    throw new UsageError(`${command}: --family must be glm or glm4, got "${values.family}".`);
  }
  const options: TinyGlmOptions = {
    family: values.family as 'glm' | 'glm4' | undefined,
    layers: integerOption(command, 'layers', values.layers),
    hiddenSize: integerOption(command, 'hidden-size', values['hidden-size']),
    heads: integerOption(command, 'heads', values.heads),
    kvHeads: integerOption(command, 'kv-heads', values['kv-heads']),
    intermediateSize: integerOption(command, 'intermediate-size', values['intermediate-size']),
    vocab: integerOption(command, 'vocab', values.vocab),
    tokenizer: values.tokenizer === undefined ? undefined : path.resolve(context.cwd, values.tokenizer),
    seed: integerOption(command, 'seed', values.seed, 0),
  };
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as TinyGlmOptions;
  const info = await createTinyGlm(path.resolve(context.cwd, positionals[0]!), defined);
  const { family, layers, hiddenSize, heads, kvHeads, vocab, seed } = info.options;
  if (values.json) {
    context.stdout.write(`${JSON.stringify({ directory: info.directory, family, layers, hiddenSize, heads, kvHeads, vocab, seed }, null, 2)}\n`);
  } else {
    context.stdout.write(`Wrote a tiny ${family} model (${layers} layers, hidden ${hiddenSize}, vocabulary ${vocab}, random weights) to ${info.directory}\n`);
  }
  return exitCodes.ok;
}
