/**
 * Derives a model's ChatFormat from its Jinja chat template by rendering probe conversations and reading what came
 * out: whether the `tools` argument or a system message's `tools` key reaches the prompt, how a recorded call and an
 * observation render, what the generation prompt is. Facts, not template names: a re-saved or slightly edited
 * template is detected the same way, and one that cannot carry something is handled by the runtime, never dropped.
 */
import type { ChatFormat, ToolPresentation } from './chat-format';
import type { ChatTemplate } from './chat-template';

export interface DetectChatFormatOptions {
  /** Special-token texts that stop generation (from the tokenizer). Defaults to the GLM ones. */
  stopTokens?: readonly string[];
}

const probeTool = 'probe_tool_q7x';
const probeArguments = '{"probe": 1}';
const probeObservation = 'probe-observation-q7x';
const probeTools = [
  { type: 'function', function: { name: probeTool, description: 'probe', parameters: { type: 'object', properties: {} } } },
];

export function detectChatFormat(template: ChatTemplate, options: DetectChatFormatOptions = {}): ChatFormat {
  const user = { role: 'user', content: 'probe-user' };
  const withPrompt = template.render({ messages: [user], add_generation_prompt: true });
  const withoutPrompt = template.render({ messages: [user], add_generation_prompt: false });
  const generationPrompt = withPrompt.startsWith(withoutPrompt) ? withPrompt.slice(withoutPrompt.length) : '<|assistant|>';

  let tools: ToolPresentation = 'ours';
  if (template.render({ messages: [user], tools: probeTools, add_generation_prompt: true }).includes(probeTool)) tools = 'template';
  else if (
    template
      .render({ messages: [{ role: 'system', content: 'probe-system', tools: probeTools }, user], add_generation_prompt: true })
      .includes(probeTool)
  ) {
    tools = 'system-message';
  }

  const recorded = template.render({
    messages: [user, { role: 'assistant', metadata: probeTool, content: probeArguments }, { role: 'observation', content: probeObservation }],
    add_generation_prompt: true,
  });
  const nameAt = recorded.indexOf(probeTool);
  const argumentsAt = recorded.indexOf(probeArguments);
  const between = nameAt !== -1 && argumentsAt > nameAt ? recorded.slice(nameAt + probeTool.length, argumentsAt) : undefined;
  const recordedCallSeparator = between === '\n' || between === ' \n' ? between : undefined;
  const observationRole = recorded.includes(probeObservation) ? 'observation' : 'user';

  // Several calls in one turn are `<|assistant|>`-separated where the template renders each recorded call as its own
  // assistant message with the name as metadata (the GLM-4 models were trained on that).
  const parallelCallSeparator = recordedCallSeparator !== undefined && generationPrompt.startsWith('<|assistant|>') ? '<|assistant|>' : undefined;
  const answerPrefix = generationPrompt.endsWith('\n') ? '' : '\n';
  const name =
    tools === 'system-message'
      ? 'glm4-chat'
      : tools === 'template' && recordedCallSeparator === ' \n'
        ? 'glm4-0414'
        : tools === 'ours' && observationRole === 'user'
          ? 'glm-edge'
          : 'glm';
  return Object.freeze({
    name,
    tools,
    generationPrompt,
    answerPrefix,
    callNameSeparator: '\n',
    recordedCallSeparator,
    observationRole,
    parallelCallSeparator,
    stopTokens: Object.freeze([...(options.stopTokens ?? ['<|endoftext|>', '<|user|>', '<|observation|>'])]),
  });
}
