import type { Tool } from '../tool';
import { documentChunkTool } from './document-chunk-tool';
import { documentSummarizeTool } from './document-summarize-tool';

/** The built-in document tools: `document.chunk` and `document.summarize`. */
export const documentTools: Tool[] = [documentChunkTool, documentSummarizeTool];
