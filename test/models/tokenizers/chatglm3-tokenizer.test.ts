import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenizerError } from '../../../src/errors';
import { GlmTokenizer } from '../../../src/models/glm-tokenizer';
import { CHATGLM3_SPECIAL_TOKENS, convertChatGlm3Tokenizer } from '../../../src/models/tokenizers/chatglm-tokenizer-conversion';
import { readSentencePieceModel } from '../../../src/models/tokenizers/sentencepiece-model';
import { RandomGenerator } from '../../../src/models/generation/random-generator';

// The ChatGLM3-shaped SentencePiece fixture (scripts/make-chatglm3-tokenizer-fixture.sh) and its training text.
const fixtures = path.join(__dirname, '../../fixtures/chatglm');
const modelFile = path.join(fixtures, 'chatglm3-tiny.tokenizer.model');
const modelBytes = readFileSync(modelFile);
// Debian's python3 has the sentencepiece module (.ci/run installs python3-sentencepiece); pyenv's python3 does not.
const python = '/usr/bin/python3';

/** A few hundred strings: the training lines, their pieces, and seeded mixes of scripts, digits and whitespace. */
function sampleStrings(): string[] {
  const lines = readFileSync(path.join(fixtures, 'training-text.txt'), 'utf8').split('\n');
  const strings = ['', ' ', '  ', '\n', '\n\n', '\t', 'a', ' a', 'a ', 'Hello world', '  leading', 'trailing  ', 'people say the sophisticated sop eop'];
  strings.push(...lines, lines.join('\n'));
  const random = new RandomGenerator(7);
  const pool = ['the ', 'report', ' revenue', '$', '12.4', '%', '你好', '财务', '报告', '。', '，', '\n', '  ', '\t', 'é', 'ß', 'Ω', '日本', '🙂', '✓', '{', '"', ':', '(', 'tool_call', '=', '0', '7', 'x', 'Q', '\u00a0', '\u3000'];
  for (let i = 0; i < 260; i++) {
    let text = '';
    const parts = 1 + Math.floor(random.nextFloat() * 12);
    for (let j = 0; j < parts; j++) text += pool[Math.floor(random.nextFloat() * pool.length)];
    strings.push(text);
  }
  return strings;
}

function pythonEncode(strings: string[]): number[][] | undefined {
  if (!existsSync(python) || spawnSync(python, ['-c', 'import sentencepiece'], { stdio: 'ignore' }).status !== 0) return undefined;
  const script = 'import json,sys,sentencepiece as s\nsp=s.SentencePieceProcessor(model_file=sys.argv[1])\nprint(json.dumps([sp.encode(t) for t in json.load(sys.stdin)]))';
  return JSON.parse(execFileSync(python, ['-c', script, modelFile], { input: JSON.stringify(strings), encoding: 'utf8' })) as number[][];
}

let dir: string;
let tokenizer: GlmTokenizer;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chatglm3-tokenizer-'));
  const converted = convertChatGlm3Tokenizer(modelBytes, { tokenizer_class: 'ChatGLMTokenizer', auto_map: { AutoTokenizer: ['tokenization_chatglm.ChatGLMTokenizer', null] }, padding_side: 'left' }, modelFile);
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(converted.tokenizerJson));
  await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify(converted.tokenizerConfig));
  tokenizer = await GlmTokenizer.load(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ChatGLM3 SentencePiece tokenizer converted to tokenizer.json', () => {
  it('reads the model as SentencePiece does: BPE, byte fallback, dummy prefix, <unk> <s> </s> first', () => {
    const model = readSentencePieceModel(modelBytes, modelFile);
    expect(model).toMatchObject({ modelType: 2, byteFallback: true, addDummyPrefix: true, removeExtraWhitespaces: false, unkId: 0, bosId: 1, eosId: 2, normalizerName: 'identity' });
    expect(model.pieces.slice(0, 4).map((p) => p.piece)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
  });

  it('appends the nine special tokens after the vocabulary, in tokenization_chatglm.py order', () => {
    const converted = convertChatGlm3Tokenizer(modelBytes, {}, modelFile);
    expect(converted.pieceCount).toBe(700);
    expect(Object.entries(converted.specialTokens)).toEqual(CHATGLM3_SPECIAL_TOKENS.map((token, i) => [token, 700 + i]));
    expect(tokenizer.tokenId('[gMASK]')).toBe(701);
    expect(tokenizer.tokenId('<|observation|>')).toBe(708);
    expect(tokenizer.decode([701, 703, 706])).toBe('[gMASK]sop<|user|>');
  });

  it('encodes like sentencepiece (python) on a few hundred strings, and decodes back', () => {
    const strings = sampleStrings();
    expect(strings.length).toBeGreaterThan(300);
    const expected = pythonEncode(strings);
    if (expected !== undefined) {
      const mismatches = strings.filter((text, i) => JSON.stringify(tokenizer.encode(text)) !== JSON.stringify(expected[i]));
      expect(mismatches).toEqual([]);
    }
    // The assertions below need no python: known ids of this fixture, and round trips.
    expect(tokenizer.encode('\n')).toEqual([409, 13]);
    for (const text of strings) {
      if (text.length === 0 || text.startsWith(' ')) continue;
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    }
  });

  it('keeps sop and eop plain words in text, as SentencePiece does; bracketed markers are added tokens', () => {
    const ids = tokenizer.encode('people sophisticated');
    expect(ids).not.toContain(703);
    expect(ids).not.toContain(704);
    // Unlike ChatGLM3's python encode (which never matches special tokens in text), the bracketed markers split out
    // of text as in every tokenizer.json of the GLM family (GLM-4-9B-chat-hf): the chat format keeps untrusted text
    // from reaching them.
    const marked = tokenizer.encode('[gMASK]x<|user|>');
    expect([marked[0], marked.at(-1)]).toEqual([701, 706]);
  });

  it('refuses what is not a SentencePiece model, naming the file', () => {
    const tiktoken = Buffer.from('IQ== 0\nIg== 1\n');
    expect(() => convertChatGlm3Tokenizer(tiktoken, {}, '/m/tokenizer.model')).toThrow(TokenizerError);
    expect(() => convertChatGlm3Tokenizer(tiktoken, {}, '/m/tokenizer.model')).toThrow(/\/m\/tokenizer\.model/);
  });
});
