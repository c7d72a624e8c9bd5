/**
 * The body of `POST /v1/chat/completions`, validated strictly (unknown or unsupported fields are a 400 naming the
 * field, never ignored), and its translation into a GLM prompt (ChatMessage[]) and GenerateOptions.
 */
import { z } from 'zod';
import { ServerRequestError } from '../../errors';
import type { ChatMessage, GenerateOptions, JsonSchema, ToolSpec } from '../../models/language-model';
import { toolCallMessage, toolResultMessage, toolSpec } from '../glm-messages';
import { fromOpenAiToolName } from './tool-names';

const textPart = z.object({ type: z.literal('text'), text: z.string() }).strict();
const content = z.union([z.string(), z.array(textPart)]);
const toolCall = z
  .object({
    id: z.string().min(1),
    type: z.literal('function'),
    function: z.object({ name: z.string().min(1), arguments: z.string() }).strict(),
  })
  .strict();

const message = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer']), content, name: z.string().optional() }).strict(),
  z.object({ role: z.literal('user'), content, name: z.string().optional() }).strict(),
  z
    .object({
      role: z.literal('assistant'),
      content: content.nullable().optional(),
      name: z.string().optional(),
      tool_calls: z.array(toolCall).optional(),
      refusal: z.string().nullable().optional(),
    })
    .strict(),
  z.object({ role: z.literal('tool'), content, tool_call_id: z.string().min(1) }).strict(),
]);

const functionTool = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: z.string().min(1),
        description: z.string().optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().nullable().optional(),
      })
      .strict(),
  })
  .strict();

const zeroOnly = (field: string) =>
  z
    .number()
    .nullable()
    .optional()
    .refine((value) => value === undefined || value === null || value === 0, { message: `${field} is not supported (use 0 or leave it out)` });

export const chatRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z.array(message).min(1),
    tools: z.array(functionTool).optional(),
    tool_choice: z
      .union([z.enum(['auto', 'none', 'required']), z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }).strict() }).strict()])
      .optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('text') }).strict(),
        z.object({ type: z.literal('json_object') }).strict(),
        z
          .object({
            type: z.literal('json_schema'),
            json_schema: z
              .object({
                name: z.string().min(1),
                description: z.string().optional(),
                schema: z.record(z.string(), z.unknown()).optional(),
                strict: z.boolean().nullable().optional(),
              })
              .strict(),
          })
          .strict(),
      ])
      .optional(),
    stream: z.boolean().nullable().optional(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).strict().nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().gt(0).max(1).nullable().optional(),
    seed: z.number().int().nullable().optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
    max_tokens: z.number().int().min(1).nullable().optional(),
    max_completion_tokens: z.number().int().min(1).nullable().optional(),
    n: z.literal(1, { message: 'only n = 1 is supported (one choice per request)' }).nullable().optional(),
    logprobs: z.literal(false, { message: 'logprobs are not supported' }).nullable().optional(),
    frequency_penalty: zeroOnly('frequency_penalty'),
    presence_penalty: zeroOnly('presence_penalty'),
    user: z.string().optional(),
  })
  .strict();

export type ChatRequest = z.output<typeof chatRequestSchema>;

/** Parses a request body; the error names the first field at fault (`messages[2].content`, `logprobs`). */
export function parseChatRequest(body: unknown): ChatRequest {
  const parsed = chatRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = [...issue.path, ...(keys.length > 0 ? [keys[0]!] : [])];
  const param = path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text === '' ? String(part) : `${text}.${String(part)}`), '');
  const message =
    keys.length > 0
      ? `Unsupported field "${param}": autoglm's chat completions do not implement it; remove it from the request.`
      : `Invalid "${param || 'body'}": ${issue.message}.`;
  throw new ServerRequestError(message, { details: { status: 400, param: param || null, type: 'invalid_request_error' } });
}

function textOf(value: string | { text: string }[] | null | undefined): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : value.map((part) => part.text).join('');
}

/** OpenAI messages as GLM chat messages: tool calls become assistant messages with the tool name as metadata. */
export function toGlmMessages(messages: ChatRequest['messages']): ChatMessage[] {
  const out: ChatMessage[] = [];
  messages.forEach((entry, index) => {
    switch (entry.role) {
      case 'system':
      case 'developer':
        out.push({ role: 'system', content: textOf(entry.content) });
        break;
      case 'user':
        out.push({ role: 'user', content: textOf(entry.content) });
        break;
      case 'assistant': {
        const text = textOf(entry.content);
        if (text !== '' || (entry.tool_calls ?? []).length === 0) out.push({ role: 'assistant', content: text });
        for (const call of entry.tool_calls ?? []) {
          out.push(toolCallMessage(fromOpenAiToolName(call.function.name, `messages[${index}].tool_calls`), call.function.arguments));
        }
        break;
      }
      case 'tool':
        out.push(toolResultMessage(textOf(entry.content)));
        break;
    }
  });
  return out;
}

export interface GlmChatRequest {
  messages: ChatMessage[];
  options: GenerateOptions;
  /** The tools the output may call (after a named tool_choice), by their registry names. */
  tools: ToolSpec[];
}

/** The whole request as GLM input; `defaultMaxTokens` when the request sets neither max_tokens field. */
export function toGlmRequest(request: ChatRequest, defaultMaxTokens: number): GlmChatRequest {
  let tools: ToolSpec[] = (request.tools ?? []).map((tool, index) =>
    toolSpec(fromOpenAiToolName(tool.function.name, `tools[${index}].function.name`), tool.function.description, tool.function.parameters),
  );
  let toolChoice: GenerateOptions['toolChoice'];
  const choice = request.tool_choice;
  if (typeof choice === 'object') {
    const wanted = fromOpenAiToolName(choice.function.name, 'tool_choice.function.name');
    tools = tools.filter((tool) => tool.name === wanted);
    if (tools.length === 0) {
      throw new ServerRequestError(`tool_choice names function "${choice.function.name}", which is not in "tools".`, {
        details: { status: 400, param: 'tool_choice', type: 'invalid_request_error' },
      });
    }
    toolChoice = 'required';
  } else if (choice !== undefined) {
    if (choice === 'required' && tools.length === 0) {
      throw new ServerRequestError('tool_choice "required" needs at least one tool in "tools".', { details: { status: 400, param: 'tool_choice', type: 'invalid_request_error' } });
    }
    toolChoice = choice;
  }
  const format = request.response_format;
  const schema: JsonSchema | undefined =
    format?.type === 'json_object' ? { type: 'object' } : format?.type === 'json_schema' ? ((format.json_schema.schema as JsonSchema | undefined) ?? { type: 'object' }) : undefined;
  const stop = request.stop === null || request.stop === undefined ? undefined : typeof request.stop === 'string' ? [request.stop] : request.stop;
  const options: GenerateOptions = {
    maxNewTokens: request.max_completion_tokens ?? request.max_tokens ?? defaultMaxTokens,
    ...(request.temperature === null || request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.top_p === null || request.top_p === undefined ? {} : { topP: request.top_p }),
    ...(request.seed === null || request.seed === undefined ? {} : { seed: request.seed }),
    ...(stop === undefined || stop.length === 0 ? {} : { stop }),
    ...(schema === undefined ? {} : { schema }),
    ...(tools.length === 0 ? {} : { tools, ...(toolChoice === undefined ? {} : { toolChoice }) }),
  };
  return { messages: toGlmMessages(request.messages), options, tools };
}
