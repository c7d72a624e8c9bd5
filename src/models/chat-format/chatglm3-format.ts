/**
 * ChatGLM3's chat format as data (chat-format.ts): prompt ids built in code (chatglm3-prompt.ts), tools on the system
 * message, calls as a name line and a python `tool_call(...)` block (chatglm3-tool-call.ts), the observation role,
 * one call per turn, stops on `</s>`, `<|user|>`, `<|observation|>`.
 */
import type { ChatFormat } from './chat-format';

export const chatGlm3Format: ChatFormat = Object.freeze({
  name: 'chatglm3',
  tools: 'system-message',
  generationPrompt: '<|assistant|>',
  answerPrefix: '\n',
  callNameSeparator: '\n',
  recordedCallSeparator: '\n',
  observationRole: 'observation',
  parallelCallSeparator: undefined,
  stopTokens: Object.freeze(['</s>', '<|user|>', '<|observation|>']),
  callArguments: 'python-tool-call',
} as const);
