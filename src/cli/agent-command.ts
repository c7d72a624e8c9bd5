/**
 * `autoglm agent --task <name|text>`: one AutoAgent run on a file or a request, from the command line.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AutoAgent } from '../agent/auto-agent';
import type { AgentInput, AgentResult } from '../agent/agent-events';
import { UsageError } from '../errors';
import { exitCodes, type CliContext } from './cli-context';
import { openModel } from './open-model';
import { integerOption, parseCommandLine } from './parse-command-line';
import { ProgressLine } from './progress-line';
import { documentTools } from '../tools/documents/document-tools';
import { financeTools } from '../tools/finance/key-figures-tool';
import { fileTools } from '../tools/file-tools';
import { pdfTools } from '../tools/pdf';
import { ToolRegistry } from '../tools/tool-registry';

export const agentHelp = `Usage: autoglm agent --task <preset|text> [request] [options]

Runs an AutoAgent once. --task is a preset (summarize_financial_report) or the task in words. The input is
--input-file (a document the tools read; a .json file is passed as the input object) or the request text.
Tools: a preset's own; otherwise --tools, read-only, inside the input file's folder and the working directory.
Never uses the network.

Options:
  --task NAME|TEXT       The task (required)
  --input-file F         The document (or a .json input object) to work on
  --model DIR            A GLM model directory. Default: the cached tiny random-weight model (nonsense prose)
  --tools LIST           Tools of a free-text task, comma-separated (default with --input-file:
                         pdf.extract,pdf.search,files.read; without: none). Available: pdf.extract, pdf.search,
                         finance.keyFigures, document.chunk, document.summarize, files.read, files.list
  --max-steps N          Most model steps (default 12)
  --max-new-tokens N     Token budget per step (default: the preset's, else 512)
  --seed N               Seed of sampled generation
  --json                 Print { output, finishReason, steps, usage } as JSON (no progress display)
  -h, --help             Show this help

Exit codes: 0 answered, 1 the run failed, 2 usage error.`;

/** A missing or unreadable --input-file fails the command before any model is loaded (no answer without input). */
async function checkInputFile(file: string): Promise<void> {
  const info = await stat(file).catch((cause: NodeJS.ErrnoException) => {
    throw new UsageError(`agent: --input-file ${file} cannot be read (${cause.code ?? cause.message}); give an existing file.`, { cause, details: { file } });
  });
  if (!info.isFile()) throw new UsageError(`agent: --input-file ${file} is not a regular file; give a file.`, { details: { file } });
}

export async function agentCommand(args: string[], context: CliContext): Promise<number> {
  const { values, positionals } = parseCommandLine('agent', args, {
    task: { type: 'string' },
    'input-file': { type: 'string' },
    model: { type: 'string' },
    'max-steps': { type: 'string' },
    'max-new-tokens': { type: 'string' },
    seed: { type: 'string' },
    tools: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    context.stdout.write(`${agentHelp}\n`);
    return exitCodes.ok;
  }
  if (values.task === undefined || values.task.trim() === '') throw new UsageError('agent: --task is required (a preset name or the task in words).');
  const maxSteps = integerOption('agent', 'max-steps', values['max-steps']);
  const maxNewTokens = integerOption('agent', 'max-new-tokens', values['max-new-tokens']);
  const seed = integerOption('agent', 'seed', values.seed, 0);
  let input: AgentInput;
  const inputFile = values['input-file'] === undefined ? undefined : path.resolve(context.cwd, values['input-file']);
  if (inputFile !== undefined) await checkInputFile(inputFile);
  if (inputFile !== undefined && inputFile.endsWith('.json')) {
    const text = await readFile(inputFile, 'utf8');
    try {
      input = JSON.parse(text) as AgentInput;
    } catch (cause) {
      throw new UsageError(`agent: --input-file ${inputFile} is not valid JSON: ${(cause as Error).message}.`, { cause, details: { file: inputFile } });
    }
  } else if (inputFile !== undefined) {
    input = positionals.length > 0 ? { inputFile, request: positionals.join(' ') } : { inputFile };
  } else if (positionals.length > 0) {
    input = positionals.join(' ');
  } else {
    throw new UsageError('agent: give --input-file F or the request text.');
  }
  const roots = [...(inputFile === undefined ? [] : [path.dirname(inputFile)]), context.cwd];
  const available = new ToolRegistry([...pdfTools, ...financeTools, ...documentTools, ...fileTools.filter((tool) => tool.name !== 'files.write')], { roots });
  const names = values.tools === undefined ? (inputFile === undefined ? [] : ['pdf.extract', 'pdf.search', 'files.read']) : values.tools.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !available.has(name));
  if (unknown.length > 0) throw new UsageError(`agent: --tools: unknown tools ${unknown.join(', ')}; available: ${available.list().map((tool) => tool.name).join(', ')}.`);
  const tools = new ToolRegistry(names.map((name) => available.get(name)!), { files: available.files });
  const isPreset = /^[a-z]+(_[a-z]+)+$/.test(values.task);
  const { model } = await openModel({ model: values.model, context });
  const progress = new ProgressLine({ stream: context.stderr, disabled: values.json === true });
  try {
    const agent = new AutoAgent({
      task: values.task,
      model,
      tools: isPreset ? undefined : tools,
      roots,
      maxSteps,
      generation: { maxNewTokens },
    });
    let result: AgentResult | undefined;
    let tokens = 0;
    let started = Date.now();
    for await (const event of agent.stream(input, { seed })) {
      if (event.type === 'step-start') {
        tokens = 0;
        started = Date.now();
      } else if (event.type === 'text-delta') {
        tokens += 1;
        progress.text(`step ${event.step}: ${tokens} tokens, ${(tokens / Math.max((Date.now() - started) / 1000, 1e-3)).toFixed(1)} tokens/s`);
      } else if (event.type === 'tool-call' && !values.json) {
        progress.clear();
        context.stderr.write(`  step ${event.step}: calls ${event.toolCall.name}\n`);
      } else if (event.type === 'final') {
        result = event.result;
      }
    }
    progress.clear();
    if (result === undefined) return exitCodes.failed;
    if (values.json) {
      context.stdout.write(`${JSON.stringify({ output: result.output, finishReason: result.finishReason, steps: result.steps.length, usage: result.usage }, null, 2)}\n`);
    } else {
      context.stdout.write(`${typeof result.output === 'string' ? result.output : JSON.stringify(result.output, null, 2)}\n`);
      context.stderr.write(`autoglm: ${result.finishReason} after ${result.steps.length} steps, ${result.usage.completionTokens} tokens generated\n`);
    }
    return result.finishReason === 'abort' ? exitCodes.failed : exitCodes.ok;
  } finally {
    progress.clear();
    await model.dispose();
  }
}
