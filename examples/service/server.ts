/**
 * A small HTTP service on 127.0.0.1 around AutoAgent: POST /summarize { "file": "EBAY_2023Q1_EARNINGS.pdf" } runs
 * the `summarize_financial_report` preset on a PDF inside the served folder and returns its FinancialSummary.
 *
 *   npx tsx examples/service/server.ts --model DIR --dir examples/financial-report --port 8080
 *   curl -s localhost:8080/summarize -d '{"file":"EBAY_2023Q1_EARNINGS.pdf"}'
 *
 * One model, one request at a time (the model serialises generations anyway); documents never leave the host.
 */
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { AutoAgent, AutoglmError, GlmModel, type LanguageModel } from 'autoglm';

export interface SummaryServiceOptions {
  model: LanguageModel;
  /** The folder whose PDFs may be summarised. */
  directory: string;
  /** Agent steps per request. Defaults to 6. */
  maxSteps?: number;
}

const requestSchema = z.object({ file: z.string().min(1).max(500) }).strict();

async function readBody(request: import('node:http').IncomingMessage, limit = 64 * 1024): Promise<string> {
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > limit) throw new Error('request body too large');
  }
  return body;
}

/** The service's HTTP server (not listening yet). */
export function createSummaryService(options: SummaryServiceOptions): Server {
  const directory = path.resolve(options.directory);
  const agent = new AutoAgent({ task: 'summarize_financial_report', model: options.model, fileRoots: [directory], maxSteps: options.maxSteps ?? 6 });
  return createServer(async (request, response) => {
    const reply = (status: number, value: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(value));
    };
    if (request.method !== 'POST' || request.url !== '/summarize') return reply(404, { error: { code: 'NOT_FOUND', message: 'POST /summarize' } });
    let file: string;
    try {
      file = requestSchema.parse(JSON.parse(await readBody(request))).file;
    } catch (error) {
      return reply(400, { error: { code: 'BAD_REQUEST', message: `expected {"file": "<pdf in the served folder>"}: ${(error as Error).message}` } });
    }
    const inputFile = path.resolve(directory, file);
    if (path.relative(directory, inputFile).startsWith('..')) return reply(400, { error: { code: 'PATH_OUTSIDE_SANDBOX', message: `${file} is outside the served folder` } });
    const controller = new AbortController();
    response.on('close', () => controller.abort());
    try {
      const result = await agent.run({ inputFile }, { signal: controller.signal });
      reply(200, { summary: result.output, finishReason: result.finishReason, steps: result.steps.length, usage: result.usage });
    } catch (error) {
      const code = error instanceof AutoglmError ? error.code : 'INTERNAL';
      reply(error instanceof AutoglmError ? 422 : 500, { error: { code, message: (error as Error).message } });
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, dir: { type: 'string' }, port: { type: 'string' } } });
  if (!values.model || !values.dir) {
    process.stderr.write('Usage: tsx examples/service/server.ts --model DIR --dir FOLDER [--port 8080]\n');
    process.exit(2);
  }
  const model = await GlmModel.load(values.model, { executionProvider: 'cpu' });
  const server = createSummaryService({ model, directory: values.dir });
  server.listen(Number(values.port ?? 8080), '127.0.0.1', () => process.stderr.write(`listening on http://127.0.0.1:${values.port ?? 8080}\n`));
  process.once('SIGINT', () => server.close(() => void model.dispose()));
}
