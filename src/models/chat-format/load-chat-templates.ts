/**
 * Finds a model directory's chat templates where Hugging Face keeps them: `chat_template.jinja` beside
 * tokenizer_config.json (current transformers, the GLM-4-0414 repositories), extra named ones in
 * `additional_chat_templates/{name}.jinja`, or tokenizer_config.json's `chat_template` (a string, or a list of
 * `{ name, template }` such as `default` and `tool_use`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatTemplateError } from '../../errors';
import { ChatTemplate } from './chat-template';

export interface ChatTemplates {
  /** The template for conversations without tools (`default`), if any. */
  default: ChatTemplate | undefined;
  /** The template for conversations with tools: `tool_use` when the model has one, else `default`. */
  toolUse: ChatTemplate | undefined;
  /** Every template by name (`default` for an unnamed one). */
  byName: ReadonlyMap<string, ChatTemplate>;
}

/** Special-token fields of tokenizer_config.json that HF passes to every render. */
const specialTokenKeys = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

export function loadChatTemplates(directory: string, tokenizerConfig: Record<string, unknown>): ChatTemplates {
  const configFile = join(directory, 'tokenizer_config.json');
  const specialTokens: Record<string, string> = {};
  for (const key of specialTokenKeys) {
    const value = tokenizerConfig[key];
    const text = typeof value === 'string' ? value : typeof (value as { content?: unknown })?.content === 'string' ? (value as { content: string }).content : undefined;
    if (text !== undefined) specialTokens[key] = text;
  }
  const sources = new Map<string, { text: string; source: string }>();
  const raw = tokenizerConfig.chat_template;
  if (typeof raw === 'string') sources.set('default', { text: raw, source: `${configFile} (chat_template)` });
  else if (Array.isArray(raw)) {
    raw.forEach((entry: unknown, index) => {
      const { name, template } = (entry ?? {}) as { name?: unknown; template?: unknown };
      if (typeof name !== 'string' || typeof template !== 'string') {
        throw new ChatTemplateError(`${configFile}: chat_template[${index}] must be { "name": string, "template": string }.`, {
          details: { file: configFile, field: `chat_template[${index}]` },
        });
      }
      sources.set(name, { text: template, source: `${configFile} (chat_template "${name}")` });
    });
  } else if (raw !== undefined && raw !== null) {
    throw new ChatTemplateError(`${configFile}: chat_template must be a string or a list of { name, template }, got ${typeof raw}.`, {
      details: { file: configFile, field: 'chat_template' },
    });
  }
  // transformers reads chat_template.jinja in preference to the config key (it writes only the file).
  const jinjaFile = join(directory, 'chat_template.jinja');
  if (existsSync(jinjaFile)) sources.set('default', { text: readFileSync(jinjaFile, 'utf8'), source: jinjaFile });
  const extraDirectory = join(directory, 'additional_chat_templates');
  if (existsSync(extraDirectory)) {
    for (const file of readdirSync(extraDirectory).filter((name) => name.endsWith('.jinja')).sort()) {
      const path = join(extraDirectory, file);
      sources.set(file.slice(0, -'.jinja'.length), { text: readFileSync(path, 'utf8'), source: path });
    }
  }
  const byName = new Map<string, ChatTemplate>();
  for (const [name, { text, source }] of sources) byName.set(name, new ChatTemplate(text, { source, specialTokens }));
  const fallback = byName.size === 1 ? [...byName.values()][0] : undefined;
  const defaultTemplate = byName.get('default') ?? fallback;
  return { default: defaultTemplate, toolUse: byName.get('tool_use') ?? defaultTemplate, byName };
}
