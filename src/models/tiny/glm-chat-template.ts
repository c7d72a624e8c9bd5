/**
 * The chat template written into tiny models' tokenizer_config.json: GLM-4-0414 style (GLM.md section 4), for
 * @huggingface/jinja. GLM-4 (`glm4`) prompts start with `[gMASK]<sop>`; GLM-Edge (`glm`) prompts have no prefix.
 *
 * Tools may be given wrapped (`{ type: 'function', function: { name, description, parameters } }`) or plain
 * (`{ name, description, parameters }`). Messages render as `<|{role}|>{metadata}\n{content}`; an assistant message
 * with `metadata` is a recorded tool call (metadata = tool name, content = arguments JSON).
 */
export function glmChatTemplate(family: 'glm' | 'glm4'): string {
  const prefix = family === 'glm4' ? "{{- '[gMASK]<sop>' -}}" : '';
  // Every literal newline of the output is written as '\n' inside a string so the template's own layout
  // (trim_blocks / lstrip_blocks) cannot change the rendering.
  return [
    prefix,
    '{%- if tools -%}',
    "{{- '<|system|>\\n# 可用工具' -}}",
    '{%- for tool in tools -%}',
    '{%- if tool.function is defined -%}{%- set tool_function = tool.function -%}{%- else -%}{%- set tool_function = tool -%}{%- endif -%}',
    "{{- '\\n\\n## ' + tool_function.name + '\\n\\n' + (tool_function | tojson(indent=4)) + '\\n在调用上述函数时，请使用 Json 格式表示调用的参数。' -}}",
    '{%- endfor -%}',
    '{%- endif -%}',
    '{%- for message in messages -%}',
    "{{- '<|' + message.role + '|>' -}}",
    '{%- if message.metadata -%}{{- message.metadata -}}{%- endif -%}',
    "{{- '\\n' + message.content -}}",
    '{%- endfor -%}',
    "{%- if add_generation_prompt -%}{{- '<|assistant|>' -}}{%- endif -%}",
  ].join('\n');
}
