/**
 * `autoglm model convert <DIR>`: gives a ChatGLM3 directory (SentencePiece tokenizer.model, remote-code
 * ChatGLMTokenizer) the tokenizer.json + tokenizer_config.json GlmModel loads. Run once after downloading.
 */
import { UsageError } from '../errors';
import { convertModelTokenizer } from '../models/tokenizers/convert-model-tokenizer';
import { exitCodes, type CliContext } from './cli-context';
import { parseCommandLine } from './parse-command-line';
import path from 'node:path';

export const modelConvertHelp = `Usage: autoglm model convert <DIR> [--force] [--json]

Converts the tokenizer of a ChatGLM3 model directory (tokenizer.model, a SentencePiece model read by remote
code) into tokenizer.json and rewrites tokenizer_config.json, so that GlmModel can load the directory. Its ids
stay those of ChatGLM3's own tokenizer. Needs no network.

Options:
  --force     Convert again over an existing tokenizer.json
  --json      Print { directory, from, written, specialTokens } as JSON
  -h, --help  Show this help`;

export async function modelConvertCommand(args: string[], context: CliContext): Promise<number> {
  const command = 'model convert';
  const { values, positionals } = parseCommandLine(command, args, { force: { type: 'boolean' }, json: { type: 'boolean' } });
  if (values.help) {
    context.stdout.write(`${modelConvertHelp}\n`);
    return exitCodes.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`${command}: expected one model directory.`);
  const result = await convertModelTokenizer(path.resolve(context.cwd, positionals[0]), { overwrite: values.force === true });
  if (values.json) {
    context.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    context.stdout.write(`Converted ${result.from} in ${result.directory}: wrote ${result.written.join(', ')} ([gMASK] = ${result.specialTokens['[gMASK]']}, <|user|> = ${result.specialTokens['<|user|>']}).\n`);
  }
  return exitCodes.ok;
}
