/**
 * The tool list as the runtime writes it for a template that has no place for tools (GLM-Edge): the same
 * `# 可用工具` section GLM-4's templates render (GLM.md section 4), so a GLM model meets a layout it was trained on.
 */
import type { ToolSpec } from '../language-model';

export function toolBlock(tools: readonly ToolSpec[]): string {
  let text = '# 可用工具';
  for (const tool of tools) {
    const spec = { name: tool.name, description: tool.description, parameters: tool.parameters };
    text += `\n\n## ${tool.name}\n\n${JSON.stringify(spec, null, 4)}\n在调用上述函数时，请使用 Json 格式表示调用的参数。`;
  }
  return text;
}
