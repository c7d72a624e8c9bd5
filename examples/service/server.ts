/**
 * autoglm embedded in a service: `createServer` serves a model over the OpenAI-compatible API and runs the
 * `summarize_financial_report` agent on PDFs of one folder through the durable runs API.
 *
 *   npx tsx examples/service/server.ts --model DIR --dir examples/financial-report --port 8080
 *   curl -s localhost:8080/v1/runs -H 'content-type: application/json' \
 *     -d '{"agent": {"task": "summarize_financial_report"}, "inputs": {"inputFile": "EBAY_2023Q1_EARNINGS.pdf"}}'
 *   curl -s localhost:8080/v1/runs/<id>
 *
 * Listens on 127.0.0.1 only; the agent reads files inside the served folder only; documents never leave the host.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createWorkflowAgentRunner } from '../../src/workflows/workflow-agent-runner';
import { GlmModel, pdfTools, ToolRegistry, type LanguageModel } from '../../src/index';
import { createServer, type AutoglmServer } from '../../src/server/index';

export interface SummaryServiceOptions {
  model: LanguageModel;
  /** The folder whose PDFs may be summarised. */
  directory: string;
  /** Where run journals live; unfinished runs resume when the service restarts. */
  dataDir: string;
  /** Defaults to 8080; 0 picks a free port. */
  port?: number;
}

/** The service's server, not listening yet. */
export function createSummaryService(options: SummaryServiceOptions): Promise<AutoglmServer> {
  const tools = new ToolRegistry(pdfTools, { roots: [path.resolve(options.directory)] });
  return createServer({
    models: { glm: options.model },
    port: options.port ?? 8080,
    runs: { dataDir: options.dataDir, tools, agents: (model, onEvent) => createWorkflowAgentRunner({ model, files: tools.files, onEvent }) },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, dir: { type: 'string' }, port: { type: 'string' }, 'data-dir': { type: 'string' } } });
  if (!values.model || !values.dir) {
    process.stderr.write('Usage: tsx examples/service/server.ts --model DIR --dir FOLDER [--port 8080] [--data-dir DIR]\n');
    process.exit(2);
  }
  const model = await GlmModel.load(values.model, { executionProvider: 'cpu' });
  const server = await createSummaryService({ model, directory: values.dir, dataDir: values['data-dir'] ?? '.autoglm-service', port: Number(values.port ?? 8080) });
  process.stderr.write(`listening on ${await server.listen()}\n`);
  process.once('SIGINT', () => void server.close().then(() => model.dispose()));
  process.once('SIGTERM', () => void server.close().then(() => model.dispose()));
}
