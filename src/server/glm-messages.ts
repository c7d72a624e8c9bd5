/**
 * The GLM side of a tool round trip, as both the OpenAI adapter and the AI SDK provider write it into history: a
 * call is an assistant message whose metadata is the tool name and whose content is the arguments JSON (the chat
 * template renders `<|assistant|>{name}\n{json}`, exactly what the model wrote); a result is an observation.
 */
import type { ChatMessage, JsonSchema, ToolSpec } from '../models/language-model';

export function toolCallMessage(name: string, argumentsJson: string): ChatMessage {
  return { role: 'assistant', metadata: name, content: argumentsJson };
}

export function toolResultMessage(content: string): ChatMessage {
  return { role: 'observation', content };
}

/** A tool for the model; an absent schema means "no arguments". */
export function toolSpec(name: string, description: string | undefined, parameters: unknown): ToolSpec {
  return { name, description: description ?? '', parameters: (parameters as JsonSchema | undefined) ?? { type: 'object', properties: {} } };
}
