// An ES module consumer of the installed package: the main entry, subpath entries, a model, a PDF, a workflow.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createTinyGlm, GlmModel, ToolRegistry, pdfTools, Workflow, defineTool, AutoglmError } from 'autoglm';
import { ToolRegistry as ToolsEntryRegistry } from 'autoglm/tools';
import { ScriptedModel } from 'autoglm/testing';
import { AutoglmMetrics } from 'autoglm/observability';
import { z } from 'zod';

const nativeLibraries = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((line) => line.includes('onnxruntime'));
const report = { nativeAtImport: nativeLibraries().length };
assert.equal(ToolsEntryRegistry, ToolRegistry, 'autoglm and autoglm/tools share one ToolRegistry class');

await createTinyGlm('./tiny-esm', { layers: 1, hiddenSize: 32, heads: 2, kvHeads: 1, seed: 1 });
const model = await GlmModel.load('./tiny-esm'); // the default worker thread: dist/graph-worker.js
const result = await model.generate([{ role: 'user', content: 'Hello' }], { maxNewTokens: 4, temperature: 0 });
report.generated = result.tokenIds.length;
report.nativeAfterLoad = nativeLibraries().length > 0;
await model.dispose();

const tools = new ToolRegistry([...pdfTools, defineTool({ name: 'text.shout', description: 'upper-case', input: z.object({ text: z.string() }), execute: ({ text }) => text.toUpperCase() })], { roots: ['./reports'] });
const pages = await tools.call('pdf.extract', { path: 'q3.pdf', pages: [1] });
assert.equal(pages.ok, true, JSON.stringify(pages));
report.pdfText = pages.value.pages[0].text.length;

const workflow = Workflow.define({ name: 'esm', steps: [{ id: 'shout', uses: 'text.shout', with: { text: 'quarterly' } }] });
const run = await workflow.run({ tools });
report.workflow = [run.status, run.steps.shout.output];

const scripted = new ScriptedModel(['scripted reply']);
report.scripted = (await scripted.generate('hi')).text;
report.metrics = (await new AutoglmMetrics().text()).length > 0;
try {
  await GlmModel.load('./missing-model');
} catch (error) {
  report.missingModel = error instanceof AutoglmError ? error.code : String(error);
}
console.log(JSON.stringify(report));
