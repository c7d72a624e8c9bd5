/**
 * The body of `POST /v1/runs`: `{ workflow, inputs }` or `{ agent, inputs }`, validated strictly, and the workflow
 * an agent run becomes (one agent step, so it is journaled and resumed like any workflow).
 */
import { z } from 'zod';
import { ServerRequestError } from '../../errors';
import { Workflow } from '../../workflows/workflow';
import type { WorkflowSpecInput } from '../../workflows/workflow-spec';

export const runRequestSchema = z
  .object({
    workflow: z.string().min(1).optional(),
    agent: z.record(z.string(), z.unknown()).optional(),
    inputs: z.record(z.string(), z.unknown()).optional(),
    model: z.string().min(1).optional(),
  })
  .strict();

export type RunRequest = z.output<typeof runRequestSchema>;

function badRequest(message: string, param: string | null): ServerRequestError {
  return new ServerRequestError(message, { details: { status: 400, type: 'invalid_request_error', param } });
}

export function parseRunRequest(body: unknown): RunRequest {
  const parsed = runRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.code === 'unrecognized_keys' ? issue.keys[0]! : issue.path.join('.') || null;
    throw badRequest(issue.code === 'unrecognized_keys' ? `Unknown field "${param}": a run takes workflow or agent, inputs and model.` : `Invalid "${param ?? 'body'}": ${issue.message}.`, param);
  }
  if ((parsed.data.workflow === undefined) === (parsed.data.agent === undefined)) {
    throw badRequest('Give exactly one of "workflow" (a served workflow name) or "agent" ({ task, ... }).', parsed.data.workflow === undefined ? 'workflow' : 'agent');
  }
  return parsed.data;
}

const inputName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * An agent run as a one-step workflow. Inputs reach the step through declared inputs and `${{ inputs.x }}`
 * references, never by splicing their text into the spec, so a value that looks like an expression stays data.
 */
export function agentWorkflow(agent: Record<string, unknown>, inputs: Record<string, unknown>): Workflow {
  const declared: NonNullable<WorkflowSpecInput['inputs']> = {};
  const withValues: Record<string, string> = {};
  for (const [name, value] of Object.entries(inputs)) {
    if (!inputName.test(name)) throw badRequest(`Input name "${name}" must be letters, digits and "_", starting with a letter or "_".`, `inputs.${name}`);
    const type = Array.isArray(value) ? 'array' : typeof value;
    if (type !== 'string' && type !== 'number' && type !== 'boolean' && type !== 'object' && type !== 'array') {
      throw badRequest(`Input "${name}" is ${value === null ? 'null' : type}; give a string, number, boolean, object or array.`, `inputs.${name}`);
    }
    declared[name] = { type: value === null ? 'object' : (type as 'string') };
    withValues[name] = `\${{ inputs.${name} }}`;
  }
  return Workflow.define({ name: `agent-${String(agent.task ?? 'task').replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}`, inputs: declared, steps: [{ id: 'agent', agent, with: withValues }] });
}
