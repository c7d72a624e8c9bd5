// A CommonJS consumer: require() of the main and subpath entries, Workflow.run (p-queue is ESM-only upstream), a
// model loaded from the CommonJS build, a PDF.
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const autoglm = require('autoglm');
const { ToolRegistry: ToolsEntryRegistry } = require('autoglm/tools');
const { Workflow: WorkflowsEntryWorkflow } = require('autoglm/workflows');
const { z } = require('zod');

const nativeLibraries = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((line) => line.includes('onnxruntime'));

async function main() {
  const report = { nativeAtRequire: nativeLibraries().length };
  const { createTinyGlm, GlmModel, ToolRegistry, pdfTools, financeTools, Workflow, defineTool, WorkflowSpecError } = autoglm;
  assert.equal(ToolsEntryRegistry, ToolRegistry);
  assert.equal(WorkflowsEntryWorkflow, Workflow);

  const shout = defineTool({ name: 'text.shout', description: 'upper-case', input: z.object({ text: z.string() }), execute: ({ text }) => text.toUpperCase() });
  const tools = new ToolRegistry([...pdfTools, ...financeTools, shout], { roots: ['./reports'] });
  const workflow = Workflow.fromYaml(`
name: cjs
steps:
  - id: shout
    uses: text.shout
    with: { text: quarterly }
  - id: figures
    uses: finance.keyFigures
    with: { path: q3.pdf }
`);
  const run = await workflow.run({ tools, concurrency: 2 });
  report.workflow = [run.status, run.steps.shout.output, run.steps.figures.output.figures.revenue.value];
  try {
    Workflow.fromYaml('name: bad\nsteps:\n  - id: a\n    uses: text.shout\n    needs: [ghost]\n');
  } catch (error) {
    report.specError = error instanceof WorkflowSpecError ? error.code : String(error);
  }

  await createTinyGlm('./tiny-cjs', { layers: 1, hiddenSize: 32, heads: 2, kvHeads: 1, seed: 2 });
  const model = await GlmModel.load('./tiny-cjs');
  const result = await model.generate('Once upon a time', { maxNewTokens: 3, temperature: 0 });
  report.generated = result.tokenIds.length;
  report.nativeAfterLoad = nativeLibraries().length > 0;
  await model.dispose();
  console.log(JSON.stringify(report));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
