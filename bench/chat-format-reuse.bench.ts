/**
 * Prefix reuse per agent step with each real GLM chat template (tiny random-weight models carrying the verbatim
 * templates of GLM-Edge, GLM-4-0414 and glm-4-9b-chat), for both history modes: 'generated' (the history shows the
 * model's own ids, the default) and 'template' (the template's rendering wherever the texts differ). Per step after
 * the first: tokens reused from the cache, and how many of the previous step's generated tokens that covers (the best
 * possible is all but the last, which was sampled but never run through the model). Seeded, so runs repeat exactly.
 *
 * Run: npx tsx bench/chat-format-reuse.bench.ts   (about 20 s)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AutoAgent } from '../src/agent/auto-agent';
import { GlmModel } from '../src/models/glm-model';
import type { TinyChatTemplate } from '../src/models/tiny/glm-chat-template';
import { createTinyGlm } from '../src/models/tiny/create-tiny-glm';
import { ledgerTools as tools } from '../test/support/ledger-tools';
import { RecordingModel } from '../test/support/recording-model';


const templates: Array<{ template: TinyChatTemplate; family: 'glm' | 'glm4' }> = [
  { template: 'glm-edge', family: 'glm' },
  { template: 'glm4-0414', family: 'glm4' },
  { template: 'glm4-chat', family: 'glm4' },
];

const root = await mkdtemp(path.join(os.tmpdir(), 'bench-chat-format-'));
try {
  console.log('| template | history | step | prompt tokens | reused (cached) | prefilled | previous step generated | of those reused |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const { template, family } of templates) {
    const directory = path.join(root, template);
    await createTinyGlm(directory, { family, seed: 3, chatTemplate: template });
    for (const history of ['generated', 'template'] as const) {
      const model = await GlmModel.load(directory, { threads: 1, history });
      try {
        // Act steps must call (random weights), so every run has several call steps to measure.
        const recording = new RecordingModel(model, {
          adjustOptions: (options) => (options.tools && options.toolChoice === undefined ? { ...options, toolChoice: 'required' } : options),
        });
        const agent = new AutoAgent({ task: 'Add up the ledger of the first quarter.', model: recording, tools, maxSteps: 5, plan: false, generation: { temperature: 1, maxNewTokens: 40 } });
        const result = await agent.run('First quarter total?', { seed: 1 });
        const usages = [...new Set(result.steps.map((step) => step.usage!))];
        usages.forEach((usage, index) => {
          if (index === 0) return;
          const previous = usages[index - 1]!;
          const reusedGenerated = usage.cachedTokens - previous.promptTokens;
          console.log(
            `| ${template} | ${history} | ${index + 1} | ${usage.promptTokens} | ${usage.cachedTokens} | ${usage.prefillTokens} | ${previous.completionTokens} | ${Math.max(0, reusedGenerated)} |`,
          );
        });
      } finally {
        await model.dispose();
      }
    }
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
