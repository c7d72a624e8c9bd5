import { WorkflowSpecError } from '../errors';
import { assertKnownNames } from '../strict-options';
import type { InputSpec, WorkflowSpec } from './workflow-spec';

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

function matches(type: InputSpec['type'], value: unknown): boolean {
  if (type === 'integer') return Number.isInteger(value);
  if (type === 'object') return typeOf(value) === 'object';
  return typeOf(value) === type;
}

/** Applies declared defaults and checks declared types; an undeclared input is an error (usually a misspelt name). */
export function resolveInputs(spec: WorkflowSpec, given: Record<string, unknown> = {}): Record<string, unknown> {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new WorkflowSpecError(`Workflow "${spec.name}": inputs must be an object of named values, got ${JSON.stringify(given) ?? String(given)}.`, { details: { field: 'inputs' } });
  }
  assertKnownNames(given, Object.keys(spec.inputs), {
    where: `Workflow "${spec.name}"`,
    kind: 'input',
    error: WorkflowSpecError,
    hint: 'Declare it under `inputs:` in the workflow to use it.',
  });
  const inputs: Record<string, unknown> = { ...given };
  for (const [name, declared] of Object.entries(spec.inputs)) {
    if (inputs[name] === undefined && declared.default !== undefined) inputs[name] = declared.default;
    const value = inputs[name];
    if (value === undefined) {
      if (declared.required === false) continue;
      throw new WorkflowSpecError(`Workflow "${spec.name}": input "${name}" (${declared.type}) is required; pass it in run({ inputs: { ${name}: ... } }).`, {
        details: { field: `inputs.${name}` },
      });
    }
    if (!matches(declared.type, value)) {
      throw new WorkflowSpecError(`Workflow "${spec.name}": input "${name}" must be of type ${declared.type}, got ${typeOf(value)}.`, {
        details: { field: `inputs.${name}` },
      });
    }
  }
  return inputs;
}
