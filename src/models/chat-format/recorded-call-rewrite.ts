/**
 * For a template that renders a recorded call unlike the model writes it (GLM-4-0414: `{name} \n{args}`, the model
 * writes `{name}\n{args}`), the function that turns the rendered text of an assistant message back into what the
 * model wrote; undefined when the two agree. GeneratedTokenMemory uses it to find the model's own ids.
 */
import { isToolName, type ChatFormat } from './chat-format';

export function recordedCallRewrite(format: ChatFormat): ((renderedText: string) => string | undefined) | undefined {
  const rendered = format.recordedCallSeparator;
  const written = format.callNameSeparator;
  if (rendered === undefined || rendered === written) return undefined;
  return (text) => {
    const at = text.indexOf(rendered);
    if (at <= 0 || !isToolName(text.slice(0, at))) return undefined;
    return `${text.slice(0, at)}${written}${text.slice(at + rendered.length)}`;
  };
}
