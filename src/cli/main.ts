/**
 * The `autoglm` command line: dispatches to one file per command, maps errors to exit codes (0 ok, 1 failed,
 * 2 usage or spec error) and prints typed errors as `CODE: message`, never a stack.
 */
import { createRequire } from 'node:module';
import { AutoglmError, UsageError } from '../errors';
import { exitCodes, processContext, type CliContext, type Command } from './cli-context';

export const mainHelp = `Usage: autoglm <command> [options]

Run GLM-family models locally through ONNX Runtime, and the agents and workflows built on them.
Nothing but \`autoglm pull\` uses the network.

Commands:
  run <workflow.yaml>        Run (or --resume) a workflow        [--input k=v] [--model DIR] [--checkpoint-dir DIR] [--json]
  agent --task <name|text>   Run an agent once                    [--input-file F] [--model DIR] [--json]
  model create-tiny <DIR>    Write a tiny random-weight GLM model (no download)
  model inspect <DIR>        Family, shapes, files, dtypes, graph I/O of a model directory [--json]
  serve                      Serve models over an OpenAI-compatible API, and runs [--model NAME=DIR] [--port 8080]
  worker --redis URL         Run workflow steps from Redis (BullMQ) for \`run --redis\` [--model NAME=DIR] [--plugin FILE]
  mcp --roots DIR            Serve the tools to MCP clients over stdio (. in names as __) [--plugin FILE]
  model convert <DIR>        Convert a ChatGLM3 tokenizer.model to tokenizer.json (once, offline) [--force]
  pull <hub-repo-id>         Download a GLM ONNX export (the only network command) [--dtype q4] [--dir DIR]

Without --model, run and agent use a tiny random-weight model built once into .cache/autoglm
($AUTOGLM_CACHE_DIR): it writes nonsense prose, while figures that tools extract are real.

Run \`autoglm <command> --help\` for a command's options.
Exit codes: 0 ok, 1 run failed, 2 usage or spec error.`;

const modelHelp = `Usage: autoglm model <create-tiny|inspect|convert> ...

  model create-tiny <DIR>   Write a tiny random-weight GLM model (no download)
  model inspect <DIR>       Family, shapes, files, dtypes and graph I/O of a model directory
  model convert <DIR>       Convert a ChatGLM3 tokenizer.model to tokenizer.json (once, offline)`;

// Imported on use: `--help` and usage errors answer without loading ONNX Runtime, pdf.js or transformers.
const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run-command')).runCommand,
  agent: async () => (await import('./agent-command')).agentCommand,
  pull: async () => (await import('./pull-command')).pullCommand,
  serve: async () => (await import('./serve-command')).serveCommand,
  mcp: async () => (await import('./mcp-command')).mcpCommand,
  worker: async () => (await import('./worker-command')).workerCommand,
  'model create-tiny': async () => (await import('./model-create-tiny-command')).modelCreateTinyCommand,
  'model inspect': async () => (await import('./model-inspect-command')).modelInspectCommand,
  'model convert': async () => (await import('./model-convert-command')).modelConvertCommand,
};

/** Codes of mistakes in what the user wrote (command line, workflow file, agent options): exit code 2. */
const usageCodes = new Set(['USAGE', 'WORKFLOW_SPEC', 'AGENT', 'PLUGIN_LOAD', 'TOOL_APPROVAL']);

/** The package version: package.json is two folders up from src/cli/, one from dist/. */
function version(): string {
  const require = createRequire(import.meta.url);
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      const json = require(candidate) as { name?: string; version?: string };
      if (json.name === 'autoglm' && json.version) return json.version;
    } catch {
      // not at this level
    }
  }
  return 'unknown';
}

async function dispatch(args: string[], context: CliContext): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    context.stdout.write(`${mainHelp}\n`);
    return first === undefined ? exitCodes.usage : exitCodes.ok;
  }
  if (first === '--version' || first === '-v') {
    context.stdout.write(`${version()}\n`);
    return exitCodes.ok;
  }
  if (first === 'model') {
    const [sub, ...subArgs] = rest;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      context.stdout.write(`${modelHelp}\n`);
      return sub === undefined ? exitCodes.usage : exitCodes.ok;
    }
    const command = commands[`model ${sub}`];
    if (command === undefined) throw new UsageError(`Unknown command "model ${sub}": expected model create-tiny, model inspect or model convert.`);
    return (await command())(subArgs, context);
  }
  const command = commands[first];
  if (command === undefined) {
    throw new UsageError(`Unknown command "${first}": expected one of run, agent, model, pull, serve, worker, mcp. Run \`autoglm --help\`.`);
  }
  return (await command())(rest, context);
}

/** Runs one command line; resolves to the exit code. Never throws. */
export async function main(args: string[], context: CliContext = processContext()): Promise<number> {
  try {
    return await dispatch(args, context);
  } catch (error) {
    if (AutoglmError.isInstance(error)) {
      context.stderr.write(`autoglm: ${error.code}: ${error.message}\n`);
      return usageCodes.has(error.code) ? exitCodes.usage : exitCodes.failed;
    }
    const message = error instanceof Error ? error.message : String(error);
    context.stderr.write(`autoglm: ${message}\n`);
    if (context.env.AUTOGLM_DEBUG && error instanceof Error && error.stack) context.stderr.write(`${error.stack}\n`);
    return exitCodes.failed;
  }
}
