import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenizerError } from '../../../src/errors';
import { createTinyGlm } from '../../../src/index';
import { GlmTokenizer } from '../../../src/models/glm-tokenizer';
import { resolveModelFiles } from '../../../src/models/model-files';
import { convertModelTokenizer } from '../../../src/models/tokenizers/convert-model-tokenizer';
import { callMain } from '../../cli/run-cli';

// A ChatGLM3 directory as downloaded: tokenizer.model and the remote-code tokenizer_config.json, no tokenizer.json.
let root: string;
let tiny: string;
let convertedJson: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'convert-model-tokenizer-'));
  tiny = path.join(root, 'tiny');
  await createTinyGlm(tiny, { family: 'chatglm', layers: 1, maxPositionEmbeddings: 32 });
  convertedJson = await readFile(path.join(tiny, 'tokenizer.json'), 'utf8');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function asDownloaded(name: string): Promise<string> {
  const dir = path.join(root, name);
  await cp(tiny, dir, { recursive: true });
  await unlink(path.join(dir, 'tokenizer.json'));
  const config = JSON.parse(await readFile(path.join(dir, 'tokenizer_config.json'), 'utf8'));
  await writeFile(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({ auto_map: { AutoTokenizer: ['tokenization_chatglm.ChatGLMTokenizer', null] }, padding_side: 'left', remove_space: false, tokenizer_class: config.autoglm_converted_from.tokenizer_class }),
  );
  return dir;
}

describe('convertModelTokenizer / autoglm model convert', () => {
  it('a ChatGLM3 directory without tokenizer.json names the command that fixes it', async () => {
    const dir = await asDownloaded('unconverted');
    expect(() => resolveModelFiles(dir)).toThrow(TokenizerError);
    expect(() => resolveModelFiles(dir)).toThrow(/autoglm model convert/);
  });

  it('the command writes tokenizer.json and tokenizer_config.json; the directory then resolves and encodes', async () => {
    const dir = await asDownloaded('cli');
    const run = await callMain(['model', 'convert', dir, '--json'], { cwd: root, env: {} });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ from: 'ChatGLMTokenizer', written: ['tokenizer.json', 'tokenizer_config.json'] });
    expect(result.specialTokens['<|observation|>']).toBe(708);
    expect(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')).toBe(convertedJson);
    expect(resolveModelFiles(dir).tokenizerFile).toBe(path.join(dir, 'tokenizer.json'));
    const tokenizer = await GlmTokenizer.load(dir);
    expect(tokenizer.encode('\n')).toEqual([409, 13]);
    // Converted once: a second run needs --force, and then converts from the saved original class.
    const again = await callMain(['model', 'convert', dir], { cwd: root, env: {} });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/TOKENIZER: .*exists already.*--force/);
    expect((await callMain(['model', 'convert', dir, '--force'], { cwd: root, env: {} })).code).toBe(0);
    expect(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')).toBe(convertedJson);
  });

  it("refuses GLM-4-9B-chat's tiktoken tokenizer.model and unknown classes, naming the file and the way out", async () => {
    const dir = await asDownloaded('tiktoken');
    await writeFile(path.join(dir, 'tokenizer.model'), 'IQ== 0\nIg== 1\nIw== 2\n');
    await expect(convertModelTokenizer(dir)).rejects.toThrow(/tiktoken-style.*glm-4-9b-chat-hf/);
    const other = await asDownloaded('other');
    await writeFile(path.join(other, 'tokenizer_config.json'), JSON.stringify({ tokenizer_class: 'LlamaTokenizer' }));
    await expect(convertModelTokenizer(other)).rejects.toMatchObject({ code: 'TOKENIZER', details: { field: 'tokenizer_class', value: 'LlamaTokenizer' } });
    await expect(convertModelTokenizer(path.join(root, 'missing'))).rejects.toThrow(/tokenizer_config\.json is missing/);
  });
});
