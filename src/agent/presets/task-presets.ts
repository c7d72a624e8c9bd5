import { summarizeFinancialReport } from './summarize-financial-report';
import type { TaskPreset } from './task-preset';

/** The named tasks `AutoAgent` knows, by name. */
export const taskPresets: Readonly<Record<string, TaskPreset>> = Object.freeze({
  [summarizeFinancialReport.name]: summarizeFinancialReport as TaskPreset,
});

export function findTaskPreset(task: string): TaskPreset | undefined {
  return Object.hasOwn(taskPresets, task) ? taskPresets[task] : undefined;
}
