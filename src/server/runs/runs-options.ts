/**
 * Options of the runs API (`/v1/runs`): which workflows it may start, on which tools and model, journaled where.
 */
import type { AgentEvent } from '../../agent/agent-events';
import type { LanguageModel } from '../../models/language-model';
import type { ToolRegistry } from '../../tools/tool-registry';
import type { Workflow } from '../../workflows/workflow';
import type { AgentRunner } from '../../workflows/workflow-types';

export interface RunsOptions {
  /** Where run journals live (`<dataDir>/runs/<id>.jsonl`); a restarted server resumes the unfinished ones. */
  dataDir: string;
  /** Workflows a run may name, by their spec name. Defaults to none. */
  workflows?: Workflow[];
  /** The tools workflow steps call (file tools stay inside the registry's roots). Defaults to an empty registry. */
  tools?: ToolRegistry;
  /** The served model name runs use. Defaults to the first model of the provider. */
  model?: string;
  /**
   * Builds the runner of agent steps and of `{ agent }` runs on a model; `onEvent` streams the agents' events to
   * `GET /v1/runs/:id/events`. Defaults to none: agent runs are refused.
   */
  agents?: (model: LanguageModel, onEvent: (stepId: string, event: AgentEvent) => void) => AgentRunner;
}
