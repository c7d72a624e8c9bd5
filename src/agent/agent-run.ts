/**
 * One agent run: plan, act, observe, replan, answer (docs/agent-loop.md has it as pseudo-code). A generator of
 * AgentEvents; the last event is `final`.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { AgentError, AgentOutputError, ToolApprovalError } from '../errors';
import type { ChatMessage, GenerateOptions, GenerateResult, LanguageModel } from '../models/language-model';
import type { ToolResult } from '../tools/tool';
import type { AgentEvent, AgentFinishReason, AgentInput, AgentStep, AgentUsage } from './agent-events';
import { createPlanSchema, type AgentPlan } from './agent-plan';
import { inputMessage, notes, observationContent, toolError } from './agent-prompts';
import type { AgentTools } from './agent-tools';
import type { ResolvedAutoAgentOptions } from './auto-agent-options';
import type { ContextWindow } from './context-window';
import { parseModelJson } from './parse-json';
import { runPrepareStep } from './prepare-step';
import { isStopConditionMet } from './stop-condition';
import { parseToolCall } from './tool-call-parser';
import { checkDecisions, deniedResult, type AgentPausedState, type PausedToolCall, type PendingToolApproval, type ToolApprovalDecision } from './tool-approval';
import { defaultChatFormat } from '../models/chat-format/chat-format';

export interface AgentRunContext {
  model: LanguageModel;
  tools: AgentTools | undefined;
  window: ContextWindow;
  options: ResolvedAutoAgentOptions;
  input: AgentInput;
  signal: AbortSignal;
  seed: number | undefined;
  /** Continue a run that paused for approval, with the decisions for its pending calls (checked here). */
  resume?: { state: AgentPausedState; decisions: unknown };
}

type StepMode = 'plan' | 'act' | 'answer';

export async function* runAgent(context: AgentRunContext): AsyncGenerator<AgentEvent, void, undefined> {
  const { model, tools, window, options, signal, resume } = context;
  const runId = resume?.state.runId ?? randomUUID();
  const logger = options.logger.child({ runId });
  const specs = tools?.toolSpecs() ?? [];
  const format = model.chatFormat ?? defaultChatFormat;
  const toolNames = specs.map((spec) => spec.name);
  const planSchema = createPlanSchema(toolNames, options.maxSteps);
  const planning = options.plan && specs.length > 0;
  const loop = resume?.state.loop;
  // Copies: the caller's state stays as it was, so the same state can be resumed again.
  const steps: AgentStep[] = loop === undefined ? [] : [...loop.steps];
  const usage: AgentUsage = loop === undefined ? { promptTokens: 0, completionTokens: 0, prefillTokens: 0, cachedTokens: 0, generations: 0 } : { ...loop.usage };
  const repeats = new Map<string, number>(loop?.repeats);
  let plan: AgentPlan | undefined = loop?.plan;
  let callsSincePlan = loop?.callsSincePlan ?? 0;
  let nextMode: StepMode = planning && options.maxSteps >= 3 ? 'plan' : 'act';
  let replanning = loop?.replanning ?? false;
  let forcedReason: 'max-steps' | 'loop' | 'stop-condition' | undefined = loop?.forcedReason;
  let forcedNoteAdded = loop?.forcedNoteAdded ?? false;
  const seed = context.seed ?? resume?.state.seed;

  const result = (finishReason: Exclude<AgentFinishReason, 'approval-required'>, output?: unknown): AgentEvent => ({
    type: 'final',
    result:
      finishReason === 'abort'
        ? { finishReason, output: undefined, steps, usage }
        : { finishReason, output, steps, usage },
  });

  /**
   * The end of a step whose calls ran (or were denied): observations into the window, events, records, and the
   * loop and replan bookkeeping. Shared by a step that ran at once and one resumed after approval.
   */
  async function* finishToolTurn(
    step: number,
    text: string,
    stepUsage: AgentStep['usage'],
    calls: ReadonlyArray<{ name: string; args: unknown; argumentsText: string; seen: number }>,
    results: ToolResult[],
  ): AsyncGenerator<AgentEvent, void, undefined> {
    const toolCalls = calls.map((call) => ({ name: call.name, args: call.args }));
    if (calls.some((call) => call.seen > 2)) forcedReason = 'loop';
    window.addTurn('tool', [
      ...calls.map((call): ChatMessage => ({ role: 'assistant', metadata: call.name, content: call.argumentsText })),
      ...results.map((toolResult): ChatMessage => ({ role: 'observation', content: observationContent(toolResult) })),
    ]);
    const records: AgentStep[] = [];
    for (const [index, toolCall] of toolCalls.entries()) {
      yield { type: 'tool-result', step, toolCall, result: results[index]! };
      records.push({ index: step, kind: 'tool', toolCall, result: results[index]!, text, usage: stepUsage });
    }
    steps.push(...records);
    for (const record of records) yield { type: 'step-end', step, record };
    if (signal.aborted) return;

    nextMode = 'act';
    replanning = false;
    const failed = calls.find((_call, index) => !results[index]!.ok);
    if (calls.every((call) => call.seen === 1) && planning && step <= options.maxSteps - 2) {
      callsSincePlan += calls.length;
      const exhausted = plan !== undefined && callsSincePlan > plan.steps.length;
      if (failed !== undefined || exhausted) {
        window.addTurn('plan', [failed === undefined ? notes.replanExhausted() : notes.replanAfterFailure(failed.name)]);
        nextMode = 'plan';
        replanning = true;
      }
    }
  }

  let firstStep = 1;
  if (resume === undefined) {
    window.beginRun(inputMessage(context.input));
    logger.debug({ tools: toolNames, maxSteps: options.maxSteps }, 'agent run started');
  } else {
    // The paused step's calls: approved ones and those that needed no approval run now, denied ones never do.
    const { pending } = resume.state;
    const missing = pending.calls.filter((call) => tools?.has(call.name) !== true).map((call) => call.name);
    if (missing.length > 0) {
      throw new ToolApprovalError(`AutoAgent.resume: the paused calls use ${missing.join(', ')}, which this agent's tools lack; resume on an agent with the same tools.`, {
        details: { kind: 'malformed', tools: missing },
      });
    }
    window.restoreRun(resume.state.inputMessage, resume.state.turns);
    const waiting: string[] = [];
    for (const call of pending.calls) {
      const needs =
        call.seen === 1 &&
        (call.needsApproval || ((await tools?.needsApproval?.(call.name, call.args, { callId: call.id, runId, stepId: String(pending.step) })) ?? false));
      if (needs) waiting.push(call.id);
    }
    const decisions = checkDecisions(resume.decisions, waiting, 'AutoAgent.resume');
    logger.debug({ step: pending.step, decisions: [...decisions.values()] }, 'agent run resumed');
    const results = await runToolCalls(tools!, pending.calls, decisions, { signal, logger, model, runId, stepId: String(pending.step) });
    yield* finishToolTurn(pending.step, pending.text, pending.usage, pending.calls, results);
    firstStep = pending.step + 1;
  }

  for (let step = firstStep; step <= options.maxSteps; step += 1) {
    if (signal.aborted) break;
    // Every step before this one ended without ending the run: the stop conditions see them all.
    if (step > 1 && forcedReason === undefined && specs.length > 0 && options.stopWhen.length > 0 && (await isStopConditionMet(options.stopWhen, { stepNumber: step - 1, steps }))) {
      forcedReason = 'stop-condition';
    }
    if (signal.aborted) break;
    if (step === options.maxSteps && specs.length > 0) forcedReason ??= 'max-steps';
    const mode: StepMode = forcedReason !== undefined || specs.length === 0 ? 'answer' : nextMode;
    if (forcedReason !== undefined && !forcedNoteAdded) {
      window.addTurn('note', [notes.answerNow(forcedReason)]);
      forcedNoteAdded = true;
    }
    // prepareStep narrows this step's tools and choice; a step forced to the answer keeps them all (its prompt then
    // extends the previous one) and takes only the temperature.
    const prepared = options.prepareStep === undefined ? {} : await runPrepareStep(options.prepareStep, { stepNumber: step, steps }, toolNames);
    const stepSpecs = prepared.tools === undefined || mode === 'answer' ? specs : specs.filter((spec) => prepared.tools!.includes(spec.name));
    const stepToolNames = stepSpecs.map((spec) => spec.name);
    yield { type: 'step-start', step, mode };

    const generateOptions: GenerateOptions = {
      maxNewTokens: options.generation.maxNewTokens,
      temperature: prepared.temperature ?? options.generation.temperature,
      topK: options.generation.topK,
      topP: options.generation.topP,
      repetitionPenalty: options.generation.repetitionPenalty,
      constrained: options.generation.constrained,
      prefixCache: options.generation.prefixCache,
      seed: seed === undefined ? undefined : seed + step,
      signal,
      // The answer step keeps the tools in the prompt, so it extends the previous prompt (the prefix cache holds all
      // of it), and toolChoice 'none' constrains the output to the answer. Unconstrained, nothing would enforce that:
      // the tools are left out of the prompt instead.
      ...(mode !== 'answer'
        ? { tools: stepSpecs, toolChoice: prepared.toolChoice }
        : options.generation.constrained && specs.length > 0
          ? { tools: specs, toolChoice: 'none' as const }
          : {}),
      schema: mode === 'plan' ? planSchema : options.output,
    };
    for (const key of Object.keys(generateOptions) as Array<keyof GenerateOptions>) {
      if (generateOptions[key] === undefined) delete generateOptions[key];
    }

    let generated: GenerateResult | undefined;
    try {
      for await (const event of model.stream(window.messages(), generateOptions)) {
        if (event.type === 'token') yield { type: 'text-delta', step, text: event.text };
        else generated = event;
      }
    } catch (error) {
      if (signal.aborted) break;
      throw error;
    }
    if (generated === undefined) throw new AgentError(`The model's stream ended without an end event at step ${step}.`);
    addUsage(usage, generated);
    if (generated.finishReason === 'abort' || signal.aborted) break;
    const text = generated.text;
    const cutOff = generated.finishReason === 'length' ? ` (the output was cut off at ${options.generation.maxNewTokens} tokens)` : '';

    const parsed =
      mode === 'answer'
        ? ({ type: 'answer', text: format.answerPrefix !== '' && text.startsWith(format.answerPrefix) ? text.slice(format.answerPrefix.length) : text } as const)
        : parseToolCall(text, { toolNames: stepToolNames, format, lenient: !options.generation.constrained || cutOff !== '' });

    if (parsed.type === 'answer' && mode === 'plan') {
      const planned = parsePlan(parsed.text, planSchema);
      const record: AgentStep = { index: step, kind: 'plan', text, usage: generated.usage };
      const planMessage: ChatMessage = { role: 'assistant', content: parsed.text };
      if (replanning) window.appendToNewestTurn(planMessage);
      else window.addTurn('plan', [planMessage]);
      if (planned.ok) {
        plan = planned.plan;
        callsSincePlan = 0;
        record.plan = plan;
        yield { type: 'plan', step, plan, replan: replanning };
      } else {
        plan = undefined;
        record.result = toolError('PLAN_INVALID', planned.reason + cutOff);
        logger.warn({ step, reason: planned.reason }, 'the model wrote an invalid plan; acting without one');
      }
      steps.push(record);
      yield { type: 'step-end', step, record };
      nextMode = 'act';
      replanning = false;
      continue;
    }

    if (parsed.type === 'answer') {
      const final = parseAnswer(parsed.text, options.output);
      const record: AgentStep = { index: step, kind: 'answer', text, usage: generated.usage };
      if (forcedReason !== undefined) record.forced = true;
      if (!final.ok) {
        const reason = final.reason + cutOff;
        if (mode === 'answer' && step === options.maxSteps) {
          throw new AgentOutputError(
            `The agent's final answer (step ${step}) does not match the output schema: ${reason} ${
              options.generation.constrained && cutOff === ''
                ? 'The answer was grammar-constrained to the JSON Schema, so the zod schema refuses something JSON Schema does not express (a refinement, or a number beyond the double range).'
                : 'Run with constrained generation, or raise generation.maxNewTokens.'
            }`,
            { details: { step, text } },
          );
        }
        record.result = toolError('OUTPUT_INVALID', reason);
        steps.push(record);
        window.addTurn('note', [{ role: 'assistant', content: parsed.text }, notes.invalidAnswer(reason)]);
        yield { type: 'step-end', step, record };
        nextMode = 'act';
        continue;
      }
      steps.push(record);
      yield { type: 'step-end', step, record };
      window.endRun({ role: 'assistant', content: parsed.text });
      logger.debug({ step, finishReason: forcedReason ?? 'answer' }, 'agent run finished');
      yield result(forcedReason ?? 'answer', final.output);
      return;
    }

    if (parsed.type === 'invalid') {
      const observation = toolError('TOOL_CALL_FORMAT', parsed.reason + cutOff);
      if (options.generation.constrained && cutOff === '') {
        logger.warn({ step, text }, 'constrained output is neither a call nor an answer; the engine broke its grammar');
      }
      const record: AgentStep = { index: step, kind: 'tool', text, result: observation, usage: generated.usage };
      if (parsed.name !== undefined) record.toolCall = { name: parsed.name, args: undefined };
      // A name that follows the tool-name rule is recorded as the call's metadata; anything else stays plain content,
      // so model output never reaches the template's own (special-token) text.
      const separatorAt = text.indexOf(format.callNameSeparator);
      window.addTurn('tool', [
        parsed.name !== undefined && separatorAt !== -1 && text.slice(0, separatorAt).trim() === parsed.name
          ? { role: 'assistant', metadata: parsed.name, content: text.slice(separatorAt + format.callNameSeparator.length) }
          : { role: 'assistant', content: text },
        { role: 'observation', content: observationContent(observation) },
      ]);
      steps.push(record);
      yield { type: 'step-end', step, record };
      nextMode = 'act';
      continue;
    }

    // Tool calls (also accepted at a plan step, where the grammar allows it: the model chose to act at once). Several
    // calls of one turn run concurrently; their observations go back in the order the model wrote the calls.
    const parsedCalls = parsed.type === 'call' ? [parsed] : parsed.calls;
    for (const call of parsedCalls) yield { type: 'tool-call', step, toolCall: { name: call.name, args: call.args } };
    const calls: PausedToolCall[] = [];
    for (const [index, call] of parsedCalls.entries()) {
      const key = `${call.name}\u0000${canonicalJson(call.args)}`;
      const seen = (repeats.get(key) ?? 0) + 1;
      repeats.set(key, seen);
      const id = `call-${step}-${index + 1}`;
      // A repeat never runs (it is answered with a note), so it needs no approval.
      const needsApproval = seen === 1 && ((await tools?.needsApproval?.(call.name, call.args, { callId: id, runId, stepId: String(step) })) ?? false);
      calls.push({ id, name: call.name, args: call.args, argumentsText: call.argumentsText, seen, needsApproval });
    }
    if (calls.some((call) => call.needsApproval)) {
      // Nothing of this step runs before the decisions: the whole turn waits, so its calls still run together.
      const pendingApprovals: PendingToolApproval[] = calls.filter((call) => call.needsApproval).map((call) => ({ id: call.id, name: call.name, args: call.args }));
      for (const approval of pendingApprovals) yield { type: 'tool-approval-request', step, approval };
      const current = window.currentRun();
      const state: AgentPausedState = {
        kind: 'autoglm.agent-paused',
        format: 1,
        task: options.task,
        runId,
        input: context.input,
        inputMessage: current.input!,
        turns: current.turns,
        pending: { step, text, usage: generated.usage, calls },
        loop: {
          steps: [...steps],
          usage: { ...usage },
          repeats: [...repeats],
          ...(plan === undefined ? {} : { plan }),
          callsSincePlan,
          replanning,
          ...(forcedReason === undefined ? {} : { forcedReason }),
          forcedNoteAdded,
        },
        ...(seed === undefined ? {} : { seed }),
      };
      logger.debug({ step, pending: pendingApprovals.map((approval) => approval.id) }, 'agent run paused for approval');
      yield { type: 'final', result: { finishReason: 'approval-required', output: undefined, steps, usage, pendingApprovals, state } };
      return;
    }
    const results = await runToolCalls(tools!, calls, new Map(), { signal, logger, model, runId, stepId: String(step) });
    yield* finishToolTurn(step, text, generated.usage, calls, results);
    if (signal.aborted) break;
  }

  if (!signal.aborted) throw new AgentError('AutoAgent: the run ended without an answer; this is a bug in the agent loop.');
  window.endRun(undefined);
  logger.debug({ steps: steps.length }, 'agent run aborted');
  yield result('abort');
}

/**
 * Runs one turn's calls: first-time calls concurrently (they are independent: the model wrote them before seeing
 * any result), repeats answered with a note instead, denied calls with the denial. Results in the order of the calls.
 */
async function runToolCalls(
  tools: AgentTools,
  calls: ReadonlyArray<{ id: string; name: string; args: unknown; seen: number }>,
  decisions: ReadonlyMap<string, ToolApprovalDecision>,
  options: { signal: AbortSignal; logger: AgentRunContext['options']['logger']; model: LanguageModel; runId: string; stepId: string },
): Promise<ToolResult[]> {
  const denied = (call: { id: string }) => decisions.get(call.id)?.approved === false;
  // Through `call` only: an instrumented view of the registry (observability) wraps exactly that method.
  const fresh = calls.filter((call) => call.seen === 1 && !denied(call));
  const freshResults = await Promise.all(
    fresh.map((call, index) => tools.call(call.name, call.args, fresh.length === 1 ? options : { ...options, stepId: `${options.stepId}.${index + 1}` })),
  );
  let next = 0;
  return calls.map((call) => {
    if (denied(call)) return deniedResult(call.name, decisions.get(call.id)!);
    if (call.seen === 1) return freshResults[next++]!;
    if (call.seen === 2) return toolError('REPEATED_CALL', notes.repeatedCall(call.name));
    return toolError('LOOP', `${notes.repeatedCall(call.name)} This call was repeated ${call.seen} times; the run stops calling tools.`);
  });
}

function addUsage(usage: AgentUsage, generated: GenerateResult): void {
  usage.promptTokens += generated.usage.promptTokens;
  usage.completionTokens += generated.usage.completionTokens;
  usage.prefillTokens += generated.usage.prefillTokens;
  usage.cachedTokens += generated.usage.cachedTokens;
  usage.generations += 1;
}

function parsePlan(text: string, schema: z.ZodType<AgentPlan>): { ok: true; plan: AgentPlan } | { ok: false; reason: string } {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, reason: `The plan is not JSON (${json.reason}).` };
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: `The plan does not match its schema: ${issuesText(parsed.error)}` };
  return { ok: true, plan: parsed.data };
}

function parseAnswer(text: string, schema: z.ZodType | undefined): { ok: true; output: unknown } | { ok: false; reason: string } {
  if (schema === undefined) return { ok: true, output: text.trim() };
  const json = parseJson(text);
  if (!json.ok) return { ok: false, reason: `The answer is not JSON (${json.reason}).` };
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) return { ok: false, reason: `The answer does not match the output schema: ${issuesText(parsed.error)}` };
  return { ok: true, output: parsed.data };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: parseModelJson(text.trim().replace(/^```(?:json)?\s*|\s*```$/g, '')) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

function issuesText(error: z.ZodError): string {
  return `${error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}.`;
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` are the same call. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

