import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors';
import { parseChatGlmConfig } from '../../src/models/chatglm-config';
import { parseModelConfig } from '../../src/models/model-config';

// Real config.json files (sources in test/fixtures/chatglm/README.md).
const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, '../fixtures/chatglm', name), 'utf8')) as Record<string, unknown>;
const chatglm3 = fixture('chatglm3-6b.config.json');
const glm4Chat = fixture('glm-4-9b-chat.config.json');

describe('parseModelConfig with model_type chatglm', () => {
  it("resolves THUDM/chatglm3-6b's config.json", () => {
    const config = parseModelConfig(chatglm3, 'config.json');
    expect(config.info).toEqual({
      family: 'chatglm',
      vocabSize: 65024,
      contextLength: 8192,
      layers: 28,
      heads: 32,
      kvHeads: 2,
      headDim: 128,
      hiddenSize: 4096,
      eosTokenIds: [2],
    });
    expect(config.padTokenId).toBe(0);
  });

  it("resolves THUDM/glm-4-9b-chat's config.json: eos list, rope_ratio, tiny epsilon", () => {
    const config = parseModelConfig(glm4Chat, 'config.json', { eos_token_id: [151329, 151336, 151338], do_sample: true, temperature: 0.8 });
    expect(config.info).toMatchObject({ family: 'chatglm', vocabSize: 151552, contextLength: 131072, layers: 40, kvHeads: 2, headDim: 128 });
    expect(config.info.eosTokenIds).toEqual([151329, 151336, 151338]);
    expect(config.padTokenId).toBe(151329);
    expect(config.generationDefaults.temperature).toBe(0.8);
    const details = parseChatGlmConfig(glm4Chat, 'config.json');
    expect(details).toMatchObject({ ropeTheta: 5_000_000, rmsNormEps: 1.5625e-7, attentionBias: true, intermediateSize: 13696, partialRotaryFactor: 0.5 });
    expect(parseChatGlmConfig(chatglm3, 'config.json').ropeTheta).toBe(10000);
  });

  it('reads multi_query_group_num only with multi_query_attention, as modeling_chatglm.py does', () => {
    expect(parseModelConfig({ ...chatglm3, multi_query_attention: false }, 'config.json').info.kvHeads).toBe(32);
  });

  it('refuses variants it does not compute and missing or inconsistent fields, naming file and field', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ ...chatglm3, rmsnorm: false }, 'rmsnorm', /LayerNorm/],
      [{ ...chatglm3, add_bias_linear: true }, 'add_bias_linear', /biased dense/],
      [{ ...chatglm3, original_rope: false }, 'original_rope', /non-interleaved/],
      [{ ...chatglm3, apply_residual_connection_post_layernorm: true }, 'apply_residual_connection_post_layernorm', /not supported/],
      [{ ...chatglm3, post_layer_norm: false }, 'post_layer_norm', /final norm/],
      [{ ...chatglm3, padded_vocab_size: undefined }, 'padded_vocab_size', /missing required field 'padded_vocab_size'/],
      [{ ...chatglm3, num_layers: undefined }, 'num_layers', /missing required field 'num_layers'/],
      [{ ...glm4Chat, num_hidden_layers: 39 }, 'num_hidden_layers', /disagree/],
      [{ ...chatglm3, multi_query_group_num: 3 }, 'multi_query_group_num', /not divisible by multi_query_group_num/],
      [{ ...chatglm3, eos_token_id: 70000 }, 'eos_token_id', /outside padded_vocab_size 65024/],
      [{ ...chatglm3, kv_channels: 'x' }, 'kv_channels', /invalid field 'kv_channels'/],
    ];
    for (const [json, field, message] of cases) {
      let error: unknown;
      try {
        parseModelConfig(json, '/m/config.json');
      } catch (caught) {
        error = caught;
      }
      expect(error, field).toBeInstanceOf(ModelFormatError);
      expect((error as ModelFormatError).message, field).toMatch(message);
      expect((error as ModelFormatError).message, field).toContain('/m/config.json');
      expect((error as ModelFormatError).details.field, field).toBe(field);
    }
  });
});
