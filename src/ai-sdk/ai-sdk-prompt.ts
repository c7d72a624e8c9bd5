/**
 * An AI SDK call (`LanguageModelV3CallOptions`) as GLM input: the prompt as ChatMessage[] (tool calls and results
 * written the way the server's OpenAI adapter writes them) and GenerateOptions, plus the warnings the SDK shows for
 * settings GLM generation does not have.
 */
import type { LanguageModelV3CallOptions, LanguageModelV3ToolResultOutput, SharedV3Warning } from '@ai-sdk/provider';
import { AiSdkProviderError } from '../errors';
import type { ChatMessage, GenerateOptions, JsonSchema, ToolSpec } from '../models/language-model';
import { toolCallMessage, toolResultMessage, toolSpec } from '../server/glm-messages';

export interface GlmCall {
  messages: ChatMessage[];
  options: GenerateOptions;
  tools: ToolSpec[];
  warnings: SharedV3Warning[];
}

function resultText(output: LanguageModelV3ToolResultOutput): string {
  switch (output.type) {
    case 'text':
    case 'error-text':
      return output.value;
    case 'json':
    case 'error-json':
      return JSON.stringify(output.value);
    case 'execution-denied':
      return JSON.stringify({ error: 'execution denied', reason: output.reason ?? null });
    case 'content':
      return output.value.map((part) => (part.type === 'text' ? part.text : '')).join('');
  }
}

function unsupportedPart(role: string, type: string): AiSdkProviderError {
  return new AiSdkProviderError(`A ${role} message holds a "${type}" part; autoglm's GLM models take text, tool calls and tool results only. Send the content as text.`, {
    details: { role, part: type },
  });
}

export function toGlmCall(call: LanguageModelV3CallOptions, defaultMaxTokens: number): GlmCall {
  const warnings: SharedV3Warning[] = [];
  const messages: ChatMessage[] = [];
  for (const message of call.prompt) {
    switch (message.role) {
      case 'system':
        messages.push({ role: 'system', content: message.content });
        break;
      case 'user': {
        const file = message.content.find((part) => part.type !== 'text');
        if (file !== undefined) throw unsupportedPart('user', file.type);
        messages.push({ role: 'user', content: message.content.map((part) => (part.type === 'text' ? part.text : '')).join('') });
        break;
      }
      case 'assistant': {
        let text = '';
        for (const part of message.content) {
          if (part.type === 'text') text += part.text;
          else if (part.type === 'reasoning') continue; // GLM's history carries no reasoning
          else if (part.type === 'tool-call') {
            if (text !== '') messages.push({ role: 'assistant', content: text });
            text = '';
            messages.push(toolCallMessage(part.toolName, typeof part.input === 'string' ? part.input : JSON.stringify(part.input)));
          } else if (part.type === 'tool-result') messages.push(toolResultMessage(resultText(part.output)));
          else throw unsupportedPart('assistant', part.type);
        }
        if (text !== '') messages.push({ role: 'assistant', content: text });
        break;
      }
      case 'tool':
        for (const part of message.content) {
          if (part.type === 'tool-result') messages.push(toolResultMessage(resultText(part.output)));
          else throw unsupportedPart('tool', part.type);
        }
        break;
    }
  }

  let tools: ToolSpec[] = [];
  for (const tool of call.tools ?? []) {
    if (tool.type !== 'function') {
      throw new AiSdkProviderError(`Tool "${tool.name}" is a provider tool (${tool.id}); autoglm runs function tools only.`, { details: { tool: tool.name } });
    }
    tools.push(toolSpec(tool.name, tool.description, tool.inputSchema));
  }
  let toolChoice: GenerateOptions['toolChoice'];
  const choice = call.toolChoice;
  if (choice?.type === 'tool') {
    tools = tools.filter((tool) => tool.name === choice.toolName);
    if (tools.length === 0) throw new AiSdkProviderError(`toolChoice names "${choice.toolName}", which is not among the tools.`, { details: { tool: choice.toolName } });
    toolChoice = 'required';
  } else if (choice !== undefined) {
    toolChoice = choice.type;
  }
  for (const [feature, value] of [
    ['presencePenalty', call.presencePenalty],
    ['frequencyPenalty', call.frequencyPenalty],
  ] as const) {
    if (value !== undefined && value !== 0) warnings.push({ type: 'unsupported', feature, details: 'GLM generation has a repetition penalty only; the setting was not applied.' });
  }
  const format = call.responseFormat;
  const schema: JsonSchema | undefined = format?.type === 'json' ? ((format.schema as JsonSchema | undefined) ?? { type: 'object' }) : undefined;
  const options: GenerateOptions = {
    maxNewTokens: call.maxOutputTokens ?? defaultMaxTokens,
    ...(call.temperature === undefined ? {} : { temperature: call.temperature }),
    ...(call.topP === undefined ? {} : { topP: call.topP }),
    ...(call.topK === undefined ? {} : { topK: call.topK }),
    ...(call.seed === undefined ? {} : { seed: call.seed }),
    ...(call.stopSequences === undefined || call.stopSequences.length === 0 ? {} : { stop: call.stopSequences }),
    ...(call.abortSignal === undefined ? {} : { signal: call.abortSignal }),
    ...(schema === undefined ? {} : { schema }),
    ...(tools.length === 0 ? {} : { tools, ...(toolChoice === undefined ? {} : { toolChoice }) }),
  };
  return { messages, options, tools, warnings };
}
