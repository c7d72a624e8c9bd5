/**
 * SEAMS (lead): modules the agent uses by default that live on other branches (the GlmModel engine, the built-in PDF
 * tools). They are imported lazily through a computed specifier so this branch type-checks and runs without them,
 * and their shape is checked at run time. Once `src/models/glm-model.ts` and `src/tools/pdf/` are merged, replace
 * the two `import(specifier)` calls by literal `import('../models/glm-model')` / `import('../tools/pdf')` so the
 * bundler includes them (a computed specifier is left as is by tsup and would not resolve from dist/).
 */
import { AgentError } from '../errors';
import type { LanguageModel } from '../models/language-model';
import type { Tool } from '../tools/tool';

interface GlmModelModule {
  GlmModel: { load(directory: string, options?: Record<string, unknown>): Promise<LanguageModel> };
}

interface PdfToolsModule {
  pdfTools: Tool[] | (() => Tool[]);
}

async function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

/** Load a model directory with GlmModel (the default `loadModel` of AutoAgent). */
export async function loadGlmModel(directory: string): Promise<LanguageModel> {
  let module: Partial<GlmModelModule>;
  try {
    module = (await importOptional(['..', 'models', 'glm-model'].join('/'))) as Partial<GlmModelModule>;
  } catch (error) {
    throw new AgentError(
      `AutoAgent was given the model directory "${directory}", but model directories need GlmModel, which could not be imported: pass a LanguageModel as \`model\`, or a \`loadModel\` function.`,
      { cause: error, details: { model: directory } },
    );
  }
  if (typeof module.GlmModel?.load !== 'function') {
    throw new AgentError(`AutoAgent: model directories need GlmModel, and its module has no GlmModel.load (model "${directory}").`, {
      details: { model: directory },
    });
  }
  return module.GlmModel.load(directory);
}

/** The built-in PDF tools (`pdf.extract`, `pdf.search`, ...), the default tools of the financial-report preset. */
export async function loadPdfTools(): Promise<Tool[]> {
  let module: Partial<PdfToolsModule>;
  try {
    module = (await importOptional(['..', 'tools', 'pdf', 'index'].join('/'))) as Partial<PdfToolsModule>;
  } catch (error) {
    throw new AgentError(
      'This task preset uses the built-in pdfTools by default, which could not be imported: pass `tools` (a ToolRegistry or an array holding pdf.extract and pdf.search).',
      { cause: error },
    );
  }
  const tools = typeof module.pdfTools === 'function' ? module.pdfTools() : module.pdfTools;
  if (!Array.isArray(tools)) {
    throw new AgentError('The built-in pdf tools module does not export a `pdfTools` array: pass `tools` explicitly.');
  }
  return tools;
}
