/**
 * `autoglm serve`: the OpenAI-compatible API and the runs API over local models (src/server/), until SIGTERM or
 * SIGINT, which shut it down gracefully (in-flight requests finish, running runs are journaled for the next start).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ServerConfigError, UsageError } from '../errors';
import { createServer } from '../server/create-server';
import { ModelRegistry } from '../server/model-registry';
import { ModelsFileWatcher, readModelsFile } from '../server/models-file-watcher';
import { isLoopback } from '../server/server-options';
import { documentTools } from '../tools/documents/document-tools';
import { fileTools } from '../tools/file-tools';
import { financeTools } from '../tools/finance/key-figures-tool';
import { pdfTools } from '../tools/pdf';
import { ToolRegistry } from '../tools/tool-registry';
import { Workflow } from '../workflows/workflow';
import { waitForStopSignal } from './wait-for-stop-signal';
import { exitCodes, type CliContext } from './cli-context';
import { integerOption, parseCommandLine, sequencesOption } from './parse-command-line';
import { defaultCacheDir, ensureTinyModel } from './tiny-model-cache';
import { createWorkflowAgentRunner } from '../workflows/workflow-agent-runner';

export const serveHelp = `Usage: autoglm serve [options]

Serves local models over an OpenAI-compatible HTTP API (/v1/chat/completions, /v1/models), runs workflows and
agents durably (/v1/runs), and reports /healthz, /readyz and /metrics. See docs/server.md. Never uses the network
beyond answering on --host.

Options:
  --model NAME=DIR     A model to serve under NAME (repeatable). Default: the tiny random-weight model as "tiny"
  --host HOST          Address to listen on (default 127.0.0.1). Any other address needs --api-key
  --port PORT          Port (default 8080; 0 picks a free one)
  --api-key KEY        Require "Authorization: Bearer KEY" (default: $AUTOGLM_API_KEY, else none)
  --data-dir DIR       Where run journals live (default .autoglm-server); unfinished runs resume on start
  --workflows DIR      Serve the *.yaml workflows of DIR through /v1/runs
  --plugin FILE        Load a tool plugin for workflow steps (repeatable)
  --root DIR           A folder tools may read (repeatable; default: the working directory)
  --sequences N        Requests each model runs at once, batched (default: up to 8 by memory for quantized
                       models, 1 for float weights; GlmModel.load's sequences)
  --max-queued N       Chat requests waiting per model, beyond those running, before 429 (default 16)
  --timeout-ms MS      Deadline of one chat request (default 300000)
  --admin-key KEY      Turn on the admin API (/admin/models: update, rollback) behind this bearer key
                       (default: $AUTOGLM_ADMIN_KEY, else the admin API is off)
  --watch FILE         A models file ({ "models": { "NAME": "DIR" } }, JSON or YAML): serve its models and update
                       them when it changes (hot update; the previous version stays loaded for rollback)
  -h, --help           Show this help

When ready it prints "listening on http://HOST:PORT" to stderr. SIGTERM or SIGINT stop it gracefully.`;

function parseModelOption(value: string): { name: string; directory: string } {
  const equals = value.indexOf('=');
  const name = value.slice(0, equals);
  if (equals <= 0 || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(name) || equals === value.length - 1) {
    throw new UsageError(`serve: --model expects NAME=DIR (NAME of letters, digits, ".", "_", ":", "-"), got "${value}".`);
  }
  return { name, directory: value.slice(equals + 1) };
}

export async function serveCommand(args: string[], context: CliContext): Promise<number> {
  const { values } = parseCommandLine('serve', args, {
    model: { type: 'string', multiple: true },
    host: { type: 'string' },
    port: { type: 'string' },
    'api-key': { type: 'string' },
    'data-dir': { type: 'string' },
    workflows: { type: 'string' },
    plugin: { type: 'string', multiple: true },
    root: { type: 'string', multiple: true },
    'max-queued': { type: 'string' },
    sequences: { type: 'string' },
    'timeout-ms': { type: 'string' },
    'admin-key': { type: 'string' },
    watch: { type: 'string' },
  });
  if (values.help) {
    context.stdout.write(`${serveHelp}\n`);
    return exitCodes.ok;
  }
  const port = integerOption('serve', 'port', values.port, 0) ?? 8080;
  const sequences = sequencesOption('serve', values.sequences);
  if (port > 65535) throw new UsageError(`serve: --port must be in [0, 65535], got ${port}.`);
  const apiKey = values['api-key'] ?? context.env.AUTOGLM_API_KEY;
  const host = values.host ?? '127.0.0.1';
  if (!isLoopback(host) && (apiKey === undefined || apiKey === '')) {
    throw new UsageError(`serve: refusing to listen on ${host} without --api-key: anyone who can reach that address could use the models. Pass --api-key KEY (or set AUTOGLM_API_KEY), or keep the default --host 127.0.0.1.`);
  }
  const specs = (values.model ?? []).map(parseModelOption);
  const names = new Set<string>();
  for (const { name } of specs) {
    if (names.has(name)) throw new UsageError(`serve: --model ${name} is given twice.`);
    names.add(name);
  }
  const roots = [context.cwd, ...(values.root ?? []).map((root) => path.resolve(context.cwd, root))];
  const tools = new ToolRegistry([...pdfTools, ...financeTools, ...documentTools, ...fileTools.filter((tool) => tool.name !== 'files.write')], { roots });
  for (const plugin of values.plugin ?? []) await tools.use(path.resolve(context.cwd, plugin));
  const workflows: Workflow[] = [];
  if (values.workflows !== undefined) {
    const directory = path.resolve(context.cwd, values.workflows);
    const files = (await readdir(directory)).filter((file) => /\.ya?ml$/.test(file)).sort();
    for (const file of files) workflows.push(await Workflow.load(path.join(directory, file), { tools }));
  }

  const adminKey = values['admin-key'] ?? context.env.AUTOGLM_ADMIN_KEY;
  const watchFile = values.watch === undefined ? undefined : path.resolve(context.cwd, values.watch);
  if (watchFile !== undefined) {
    for (const [name, directory] of Object.entries(await readModelsFile(watchFile))) {
      if (names.has(name)) throw new UsageError(`serve: model ${name} is given both by --model and by --watch ${values.watch}.`);
      names.add(name);
      specs.push({ name, directory });
    }
  }
  const dataDir = path.resolve(context.cwd, values['data-dir'] ?? '.autoglm-server');
  let registry: ModelRegistry | undefined;
  let watcher: ModelsFileWatcher | undefined;
  try {
    if (specs.length === 0) {
      const { directory, created } = await ensureTinyModel({ cacheDir: defaultCacheDir(context.cwd, context.env) });
      context.stderr.write(`autoglm: no --model given: serving the tiny random-weight GLM (${created ? 'built' : 'cached'} in ${directory}) as "tiny"; it writes nonsense.\n`);
      specs.push({ name: 'tiny', directory });
    }
    // Versions and their history live in the data dir: a restart comes back on the version that was active.
    registry = await ModelRegistry.open({
      dataDir,
      models: Object.fromEntries(specs.map(({ name, directory }) => [name, path.resolve(context.cwd, directory)])),
      loadOptions: { executionProvider: 'cpu', ...sequences },
    });
    const server = await createServer({
      models: registry,
      ...(adminKey === undefined || adminKey === '' ? {} : { adminKey }),
      host,
      port,
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(values['max-queued'] === undefined ? {} : { maxQueued: integerOption('serve', 'max-queued', values['max-queued'], 0)! }),
      ...(values['timeout-ms'] === undefined ? {} : { requestTimeoutMs: integerOption('serve', 'timeout-ms', values['timeout-ms'])! }),
      runs: {
        dataDir,
        workflows,
        tools,
        agents: (model, onEvent) => createWorkflowAgentRunner({ model, files: tools.files, tools, onEvent }),
      },
    });
    const url = await server.listen();
    if (watchFile !== undefined) {
      watcher = new ModelsFileWatcher(watchFile, registry);
      watcher.onApplied((outcomes) => {
        for (const outcome of outcomes) {
          if (!outcome.ok) context.stderr.write(`autoglm: ${outcome.error}\n`);
          else if (outcome.switch.changed) context.stderr.write(`autoglm: model ${outcome.name} now serves ${outcome.switch.version}\n`);
        }
      });
      watcher.start();
    }
    context.stderr.write(`listening on ${url}\n`);
    await waitForStopSignal();
    context.stderr.write('autoglm: shutting down (finishing in-flight requests)\n');
    await server.close();
    return exitCodes.ok;
  } catch (error) {
    if (error instanceof ServerConfigError) throw new UsageError(`serve: ${error.message}`, { cause: error });
    throw error;
  } finally {
    watcher?.close();
    await registry?.dispose();
  }
}
