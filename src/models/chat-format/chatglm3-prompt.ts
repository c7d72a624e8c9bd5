/**
 * ChatGLM3's prompt as token ids, built the way its tokenization_chatglm.py builds them (`build_chat_input`,
 * `build_single_message`, prefix `[gMASK] sop`), not by rendering text: each message is its role token, then
 * encode(metadata + "\n"), then encode(content), each encoded on its own so SentencePiece gives each its dummy
 * prefix as ChatGLM3 does. Tools ride on the system message: its content gets "\n" + the tool list as JSON (indent 4,
 * non-ASCII kept). The generation prompt is `<|assistant|>`.
 */
import { TokenizerError } from '../../errors';
import type { ChatMessage, ToolSpec } from '../language-model';

/** The system prompt of ChatGLM3's tool-use demo, used when tools are given without a system message. */
export const CHATGLM3_TOOLS_SYSTEM_PROMPT = 'Answer the following questions as best as you can. You have access to the following tools:';

/** What the builder needs from a tokenizer. */
export interface ChatGlm3Encoder {
  /** Template text (here: metadata + "\n"). */
  encode(text: string): number[];
  /** Untrusted content; never yields a special token's id. Defaults to `encode`. */
  encodeContent?(text: string): number[];
}

/** Ids of ChatGLM3's prefix and role tokens. */
export interface ChatGlm3TokenIds {
  '[gMASK]': number;
  sop: number;
  '<|system|>': number;
  '<|user|>': number;
  '<|assistant|>': number;
  '<|observation|>': number;
}

const ROLES = new Set(['system', 'user', 'assistant', 'observation']);

/** Token ids of `messages` (and `tools`) as ChatGLM3 would feed them, ending with the generation prompt. */
export function chatGlm3PromptIds(messages: readonly ChatMessage[], tools: readonly ToolSpec[] | undefined, encoder: ChatGlm3Encoder, ids: ChatGlm3TokenIds): number[] {
  const content = (text: string) => (encoder.encodeContent ? encoder.encodeContent(text) : encoder.encode(text));
  const out = [ids['[gMASK]'], ids.sop];
  let history = [...messages];
  if (tools && tools.length > 0 && history[0]?.role !== 'system') history = [{ role: 'system', content: CHATGLM3_TOOLS_SYSTEM_PROMPT }, ...history];
  history.forEach((message, index) => {
    if (!ROLES.has(message.role)) {
      throw new TokenizerError(`ChatGLM3 prompt: message ${index} has role '${message.role}'; ChatGLM3 knows system, user, assistant and observation.`, {
        details: { field: `messages.${index}.role`, value: message.role },
      });
    }
    let text = message.content;
    if (index === 0 && message.role === 'system' && tools && tools.length > 0) {
      const list = tools.map((tool) => ({ name: tool.name, description: tool.description, parameters: tool.parameters }));
      text = `${text}\n${JSON.stringify(list, null, 4)}`;
    }
    out.push(ids[`<|${message.role}|>` as keyof ChatGlm3TokenIds], ...encoder.encode(`${message.metadata ?? ''}\n`), ...content(text));
  });
  out.push(ids['<|assistant|>']);
  return out;
}

/** ChatGLM3's prefix and role ids, looked up by `tokenId`; a tokenizer lacking one is not ChatGLM3's. */
export function chatGlm3TokenIds(tokenId: (token: string) => number | undefined): ChatGlm3TokenIds {
  const ids = {} as Record<keyof ChatGlm3TokenIds, number>;
  for (const token of ['[gMASK]', 'sop', '<|system|>', '<|user|>', '<|assistant|>', '<|observation|>'] as const) {
    const id = tokenId(token);
    if (id === undefined) {
      throw new TokenizerError(`The tokenizer has no '${token}': it is not a ChatGLM3 tokenizer. Convert the directory again with \`autoglm model convert --force\`.`, {
        details: { field: token },
      });
    }
    ids[token] = id;
  }
  return ids;
}
