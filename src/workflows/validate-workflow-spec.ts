/**
 * Turns a raw spec (parsed YAML or a TS object) into a validated `WorkflowSpec`, or throws one WorkflowSpecError
 * listing every problem with its step, field and (for YAML) line: schema errors, duplicate ids, a step with zero or
 * several of uses/agent/workflow, unknown or cyclic `needs`, references to steps that are not upstream, unknown
 * inputs, and (when tools are known) unknown tools.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import { WorkflowSpecError } from '../errors';
import { didYouMean } from '../strict-options';
import type { ToolCaller } from '../tools/tool';
import { ExpressionSyntaxError, expressionPaths, parseExpression } from './expression';
import { collectTemplates, conditionExpression } from './template';
import { workflowSpecSchema, type StepSpec, type WorkflowSpec } from './workflow-spec';
import { YamlSource } from './yaml-source';

type FieldPath = Array<string | number>;

export interface SpecIssue {
  /** The step id (nested steps as `outer > inner`), absent for workflow-level fields. */
  step?: string;
  /** The field, e.g. `needs[0]` or `retry.max`. */
  field: string;
  line?: number;
  message: string;
}

/** Where a spec came from, to name lines and resolve nested workflow files. */
export interface SpecOrigin {
  source?: YamlSource;
  /** The file the spec was read from (for messages). */
  file?: string;
  /** The directory nested `workflow: path.yaml` files are resolved against. Defaults to the current directory. */
  baseDir?: string;
  /** Files being loaded, outermost first, to refuse a workflow that nests itself. */
  fileStack?: string[];
}

function formatField(path: FieldPath): string {
  return path.reduce<string>((text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment), '');
}

export function formatIssue(issue: SpecIssue): string {
  const where = [issue.step === undefined ? undefined : `step "${issue.step}"`, `field "${issue.field}"`].filter(Boolean).join(', ');
  return `${where}${issue.line === undefined ? '' : ` (line ${issue.line})`}: ${issue.message}`;
}

export function specError(workflowName: string | undefined, file: string | undefined, issues: SpecIssue[]): WorkflowSpecError {
  const head = `Invalid workflow${workflowName ? ` "${workflowName}"` : ''}${file ? ` in ${file}` : ''}`;
  const body = issues.length === 1 ? formatIssue(issues[0]) : issues.map((issue) => `\n  - ${formatIssue(issue)}`).join('');
  const first = issues[0];
  return new WorkflowSpecError(`${head}: ${body}`, {
    details: { file, step: first?.step, field: first?.field, line: first?.line, issues },
  });
}

/**
 * Validates a raw spec and reports every problem at once: field errors, graph errors (needs, cycles, references)
 * and, with `tools`, unknown tools. Nested workflow files are read (synchronously) relative to `origin.baseDir`.
 */
export function validateWorkflowSpec(raw: unknown, origin: SpecOrigin = {}, tools?: ToolCaller): WorkflowSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw specError(undefined, origin.file, [
      { field: '(root)', message: `a workflow is an object with name and steps, got ${raw === null ? 'null' : Array.isArray(raw) ? 'a list' : typeof raw}` },
    ]);
  }
  const parsed = workflowSpecSchema.safeParse(raw);
  const name = typeof (raw as { name?: unknown }).name === 'string' ? (raw as { name: string }).name : undefined;
  const issues: SpecIssue[] = parsed.success ? [] : zodIssues(raw, parsed.error, origin);
  // On field errors, the graph is still checked on what can be read of it, so that one run shows every problem.
  const spec = parsed.success ? (parsed.data as unknown as WorkflowSpec) : lenientSpec(raw);
  if (spec !== undefined) {
    const graphIssues: SpecIssue[] = [];
    checkGraph(spec, [], '', origin, graphIssues);
    if (tools !== undefined) graphIssues.push(...toolIssues(spec, tools, origin));
    const known = new Set(issues.map((issue) => `${issue.step}\u0000${issue.field}`));
    issues.push(...graphIssues.filter((issue) => !known.has(`${issue.step}\u0000${issue.field}`)));
  }
  if (issues.length > 0) throw specError(name, origin.file, issues);
  return spec!;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What the graph checks need, read leniently from a spec that failed its schema (the schema issues are reported). */
function lenientSpec(raw: unknown): WorkflowSpec | undefined {
  if (!isRecord(raw) || !Array.isArray(raw.steps)) return undefined;
  const steps = raw.steps.map((step: unknown, index): StepSpec => {
    const s = isRecord(step) ? step : {};
    const needs = typeof s.needs === 'string' ? [s.needs] : Array.isArray(s.needs) ? s.needs.filter((need): need is string => typeof need === 'string') : [];
    const nested = typeof s.workflow === 'string' ? s.workflow : s.workflow === undefined ? undefined : (lenientSpec(s.workflow) ?? { name: '', inputs: {}, steps: [] });
    return {
      id: typeof s.id === 'string' ? s.id : `#${index + 1}`,
      needs,
      onFailure: 'fail',
      ...(typeof s.uses === 'string' ? { uses: s.uses } : s.uses === undefined ? {} : { uses: '' }),
      ...(s.agent === undefined ? {} : { agent: (isRecord(s.agent) ? s.agent : {}) as StepSpec['agent'] }),
      ...(nested === undefined ? {} : { workflow: nested as WorkflowSpec }),
      ...(isRecord(s.with) ? { with: s.with } : {}),
      ...(typeof s.if === 'string' || typeof s.if === 'boolean' ? { if: s.if } : {}),
    };
  });
  return {
    name: typeof raw.name === 'string' ? raw.name : '',
    inputs: (isRecord(raw.inputs) ? raw.inputs : {}) as WorkflowSpec['inputs'],
    steps,
    ...(isRecord(raw.outputs) ? { outputs: raw.outputs } : {}),
  };
}

function zodIssues(raw: unknown, error: z.ZodError, origin: SpecOrigin): SpecIssue[] {
  return error.issues.map((issue) => {
    const path = issue.path as FieldPath;
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const fieldPath = keys.length > 0 ? [...path, keys[0]] : path;
    // The step is the innermost `steps[i]` on the path, so nested inline workflows name their own step.
    let step: string | undefined;
    let stepEnd = 0;
    let value: unknown = raw;
    const stepNames: string[] = [];
    for (let i = 0; i < path.length; i++) {
      value = (value as Record<string | number, unknown> | undefined)?.[path[i]];
      if (path[i - 1] === 'steps' && typeof path[i] === 'number') {
        const id = (value as { id?: unknown } | undefined)?.id;
        stepNames.push(typeof id === 'string' ? id : `#${(path[i] as number) + 1}`);
        stepEnd = i + 1;
      }
    }
    if (stepNames.length > 0) step = stepNames.join(' > ');
    const message = keys.length > 0 ? `unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}; check the spelling` : issue.message;
    return {
      step,
      field: formatField(fieldPath.slice(stepEnd)) || (step === undefined ? '(root)' : 'id'),
      line: origin.source?.lineOf(fieldPath),
      message,
    };
  });
}

function checkGraph(spec: WorkflowSpec, prefix: FieldPath, stepPrefix: string, origin: SpecOrigin, issues: SpecIssue[]): void {
  const lineOf = (path: FieldPath) => origin.source?.lineOf([...prefix, ...path]);
  const indexById = new Map<string, number>();
  spec.steps.forEach((step, index) => {
    const label = stepPrefix + step.id;
    const at = (field: FieldPath, message: string) =>
      issues.push({ step: label, field: formatField(field), line: lineOf(['steps', index, ...field]), message });
    if (indexById.has(step.id)) {
      at(['id'], `duplicate step id; it is already used by step #${indexById.get(step.id)! + 1}. Give each step a unique id`);
    } else {
      indexById.set(step.id, index);
    }
    const kinds = (['uses', 'agent', 'workflow'] as const).filter((kind) => step[kind] !== undefined);
    if (kinds.length !== 1) {
      at(kinds.length === 0 ? ['id'] : [kinds[1]], kinds.length === 0 ? 'a step needs one of "uses" (a tool), "agent" or "workflow"' : `a step has exactly one of "uses", "agent" or "workflow", found ${kinds.join(' and ')}`);
    }
    const nested = (step as { workflow?: unknown }).workflow;
    if (typeof nested === 'string') {
      step.workflow = loadNestedFile(nested, origin, (message) => at(['workflow'], message));
    } else if (nested !== undefined) {
      checkGraph(step.workflow!, [...prefix, 'steps', index, 'workflow'], `${label} > `, origin, issues);
    }
  });

  spec.steps.forEach((step, index) => {
    step.needs.forEach((need, needIndex) => {
      if (!indexById.has(need)) {
        issues.push({
          step: stepPrefix + step.id,
          field: `needs[${needIndex}]`,
          line: lineOf(['steps', index, 'needs', needIndex]) ?? lineOf(['steps', index, 'needs']),
          message: `unknown step "${need}"; known steps: ${[...indexById.keys()].join(', ')}`,
        });
      }
    });
  });
  const cycle = findCycle(spec, indexById);
  if (cycle !== undefined) {
    const index = indexById.get(cycle[0])!;
    issues.push({
      step: stepPrefix + cycle[0],
      field: 'needs',
      line: lineOf(['steps', index, 'needs']),
      message: `cycle in needs: ${cycle.join(' -> ')} (read "->" as "needs"); remove one of these needs`,
    });
    return; // upstream checks are meaningless on a cyclic graph
  }
  checkReferences(spec, prefix, stepPrefix, indexById, origin, issues);
}

function loadNestedFile(path: string, origin: SpecOrigin, fail: (message: string) => void): WorkflowSpec | undefined {
  const file = resolve(origin.baseDir ?? process.cwd(), path);
  const stack = origin.fileStack ?? (origin.file ? [resolve(origin.file)] : []);
  if (stack.includes(file)) {
    fail(`workflow file "${path}" nests itself (${[...stack, file].join(' -> ')})`);
    return undefined;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    fail(`cannot read nested workflow file "${file}": ${(cause as Error).message}`);
    return undefined;
  }
  try {
    const source = new YamlSource(text, file);
    return validateWorkflowSpec(source.toJS(), { source, file, baseDir: dirname(file), fileStack: [...stack, file] });
  } catch (cause) {
    fail(`nested workflow "${path}" is invalid: ${(cause as Error).message}`);
    return undefined;
  }
}

/** Kahn's algorithm (iterative, so 10 000-step chains do not overflow the stack); a leftover step lies on a cycle. */
function findCycle(spec: WorkflowSpec, indexById: Map<string, number>): string[] | undefined {
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const step of spec.steps) {
    const needs = step.needs.filter((need) => indexById.has(need));
    pending.set(step.id, needs.length);
    for (const need of needs) {
      const list = dependents.get(need);
      if (list === undefined) dependents.set(need, [step.id]);
      else list.push(step.id);
    }
  }
  const ready = [...pending].filter(([, count]) => count === 0).map(([id]) => id);
  while (ready.length > 0) {
    const id = ready.pop()!;
    pending.delete(id);
    for (const dependent of dependents.get(id) ?? []) {
      const count = pending.get(dependent)! - 1;
      pending.set(dependent, count);
      if (count === 0) ready.push(dependent);
    }
  }
  if (pending.size === 0) return undefined;
  const stepById = new Map(spec.steps.map((step) => [step.id, step]));
  const walk: string[] = [];
  let current = pending.keys().next().value as string;
  while (!walk.includes(current)) {
    walk.push(current);
    current = stepById.get(current)!.needs.find((need) => pending.has(need))!;
  }
  return [...walk.slice(walk.indexOf(current)), current];
}

/**
 * Whether `target` is upstream of `step`: a walk up the needs that stops once it finds the target. A reference
 * usually reads a direct need, so validating long chains stays linear (full upstream sets made 8,000 chained
 * steps quadratic: 91 s).
 */
function isUpstream(stepById: ReadonlyMap<string, StepSpec>, step: StepSpec, target: string): boolean {
  if (step.needs.includes(target)) return true;
  const seen = new Set<string>();
  const stack = [...step.needs];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === target) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const need of stepById.get(id)?.needs ?? []) if (!seen.has(need)) stack.push(need);
  }
  return false;
}

const stepFields = ['output', 'status', 'attempts', 'error'];

function checkReferences(
  spec: WorkflowSpec,
  prefix: FieldPath,
  stepPrefix: string,
  indexById: Map<string, number>,
  origin: SpecOrigin,
  issues: SpecIssue[],
): void {
  const lineOf = (path: FieldPath) => origin.source?.lineOf([...prefix, ...path]);
  const declaredInputs = Object.keys(spec.inputs);
  const stepById = new Map(spec.steps.map((s) => [s.id, s]));
  const check = (step: StepSpec | undefined, value: unknown, basePath: FieldPath, linePath: FieldPath, isCondition: boolean) => {
    const occurrences = isCondition ? [{ expression: conditionExpression(value as string), path: [] }] : collectTemplates(value);
    for (const occurrence of occurrences) {
      const field = formatField([...basePath, ...occurrence.path]);
      const issue = (message: string) =>
        issues.push({ step: step && stepPrefix + step.id, field, line: lineOf([...linePath, ...occurrence.path]), message });
      let paths;
      try {
        paths = expressionPaths(parseExpression(occurrence.expression));
      } catch (error) {
        if (!(error instanceof ExpressionSyntaxError)) throw error;
        issue(`bad expression "${occurrence.expression}": ${error.message}`);
        continue;
      }
      for (const path of paths) {
        const [root, id, field2] = path.segments;
        if (root === 'inputs') {
          if (typeof id !== 'string') issue(`reference "${path.source}" must name an input, e.g. inputs.report`);
          else if (!declaredInputs.includes(id)) {
            const suggestion = didYouMean(id, declaredInputs);
            issue(
              `reference "${path.source}" names an undeclared input${suggestion === undefined ? '' : ` (did you mean "inputs.${suggestion}"?)`}; ` +
                (declaredInputs.length === 0 ? 'the workflow declares no inputs: declare it under `inputs:`' : `declared inputs: ${declaredInputs.join(', ')}`),
            );
          }
        } else if (root === 'steps') {
          if (typeof id !== 'string' || !indexById.has(id)) {
            const suggestion = typeof id === 'string' ? didYouMean(id, [...indexById.keys()]) : undefined;
            issue(
              `reference "${path.source}" names unknown step "${String(id)}"${suggestion === undefined ? '' : ` (did you mean "steps.${suggestion}"?)`}; known steps: ${[...indexById.keys()].join(', ')}`,
            );
          } else if (typeof field2 !== 'string' || !stepFields.includes(field2)) {
            issue(`reference "${path.source}" must read one of ${stepFields.map((f) => `steps.${id}.${f}`).join(', ')}`);
          } else if (step !== undefined && !isUpstream(stepById, step, id)) {
            issue(`reference "${path.source}" reads step "${id}", which is not upstream of "${step.id}"; add "${id}" to its needs`);
          }
        } else {
          issue(`reference "${path.source}" must start with "inputs." or "steps."`);
        }
      }
    }
  };
  spec.steps.forEach((step, index) => {
    if (step.with !== undefined) check(step, step.with, ['with'], ['steps', index, 'with'], false);
    if (step.agent !== undefined) check(step, step.agent, ['agent'], ['steps', index, 'agent'], false);
    if (typeof step.if === 'string') check(step, step.if, ['if'], ['steps', index, 'if'], true);
  });
  if (spec.outputs !== undefined) check(undefined, spec.outputs, ['outputs'], ['outputs'], false);
}

/** Every tool a spec uses (nested workflows included) must be known to `tools`. */
export function checkTools(spec: WorkflowSpec, tools: ToolCaller, origin: SpecOrigin = {}): void {
  const issues = toolIssues(spec, tools, origin);
  if (issues.length > 0) throw specError(spec.name, origin.file, issues);
}

function toolIssues(spec: WorkflowSpec, tools: ToolCaller, origin: SpecOrigin, prefix: FieldPath = [], stepPrefix = ''): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const visit = (current: WorkflowSpec, path: FieldPath, label: string) => {
    current.steps.forEach((step, index) => {
      if (step.uses !== undefined && step.uses !== '' && !tools.has(step.uses)) {
        issues.push({
          step: label + step.id,
          field: 'uses',
          line: origin.source?.lineOf([...path, 'steps', index, 'uses']),
          message: `unknown tool "${step.uses}"; register it in the ToolRegistry passed as \`tools\``,
        });
      }
      if (step.workflow !== undefined) visit(step.workflow, [...path, 'steps', index, 'workflow'], `${label}${step.id} > `);
    });
  };
  visit(spec, prefix, stepPrefix);
  return issues;
}
