/**
 * The answer branch follows the model's chat format (issue 11 item 4): after GLM-Edge's generation prompt
 * `<|assistant|>\n` an answer starts at once, where the old grammar allowed only another `\n` first.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GrammarCompiler } from '../../src/models/constraints/grammar-compiler';
import { GlmTokenizer } from '../../src/models/glm-tokenizer';
import { createTinyGlm } from '../../src/models/tiny/create-tiny-glm';

const tools = [{ name: 'ledger.read', description: 'Read a month', parameters: { type: 'object', properties: { month: { type: 'integer' } } } }];

describe('grammar answer prefix from the chat format', () => {
  it("allows an answer's first word at once where the generation prompt wrote the newline (GLM-Edge)", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'grammar-format-'));
    try {
      const directory = path.join(root, 'model');
      const info = await createTinyGlm(directory, { layers: 1, hiddenSize: 16, heads: 2, kvHeads: 1, chatTemplate: 'glm-edge' });
      const tokenizer = await GlmTokenizer.load(directory);
      const format = tokenizer.chatFormatFor(true);
      expect(format.answerPrefix).toBe('');
      const json = JSON.parse(await readFile(path.join(directory, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> }; added_tokens: unknown[] };
      const vocabSize = JSON.parse(await readFile(path.join(info.directory, 'config.json'), 'utf8')).vocab_size as number;
      const stopTokenIds = [tokenizer.tokenId('<|endoftext|>')!, tokenizer.tokenId('<|user|>')!];
      const compiler = await GrammarCompiler.fromTokenizerJson(json, { vocabSize, stopTokenIds });
      const allowed = async (request: Parameters<GrammarCompiler['createConstraint']>[0]) => {
        const constraint = await compiler.createConstraint(request);
        const logits = new Float32Array(vocabSize);
        constraint.maskLogits(logits);
        constraint.dispose();
        return new Set([...logits.keys()].filter((id) => logits[id] !== Number.NEGATIVE_INFINITY));
      };
      const word = tokenizer.encode('Revenue')[0]!;
      const newline = tokenizer.encode('\n')[0]!;
      const edge = await allowed({ tools, toolChoice: 'none', format });
      expect(edge.has(word)).toBe(true);
      // The GLM-4 layout (bare `<|assistant|>`): the answer must open with its newline.
      const glm4 = await allowed({ tools, toolChoice: 'none' });
      expect(glm4.has(word)).toBe(false);
      expect(glm4.has(newline)).toBe(true);
      compiler.dispose();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 60_000);
});
