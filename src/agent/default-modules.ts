/**
 * The agent's defaults that live in other layers: GlmModel for model directories, the built-in PDF tools for the
 * financial-report preset. Imported lazily so that an agent given a LanguageModel and its own tools never loads
 * onnxruntime-node or pdf.js.
 */
import type { LanguageModel } from '../models/language-model';
import type { Tool } from '../tools/tool';

/** Load a model directory with GlmModel (the default `loadModel` of AutoAgent). */
export async function loadGlmModel(directory: string): Promise<LanguageModel> {
  const { GlmModel } = await import('../models/glm-model');
  return GlmModel.load(directory);
}

/** The built-in PDF tools (`pdf.extract`, `pdf.search`), the default tools of the financial-report preset. */
export async function loadPdfTools(): Promise<Tool[]> {
  const { pdfTools } = await import('../tools/pdf/pdf-tools');
  // Only these two: every tool's schema takes prompt room, and pdf.tables' would not fit a small model's budget.
  return pdfTools.filter((tool) => tool.name === 'pdf.extract' || tool.name === 'pdf.search');
}
