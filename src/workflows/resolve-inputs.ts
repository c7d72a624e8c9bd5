import { WorkflowSpecError } from '../errors';
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

/** Applies declared defaults and checks declared types; undeclared inputs pass through unchanged. */
export function resolveInputs(spec: WorkflowSpec, given: Record<string, unknown> = {}): Record<string, unknown> {
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
