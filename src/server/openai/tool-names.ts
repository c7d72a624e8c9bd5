/**
 * Tool names between our registry (dotted: `pdf.extract`) and OpenAI, whose function names must match
 * `^[A-Za-z0-9_-]{1,64}$`. The rule, reversible for every registry name: `.` <-> `__`. A registry name that
 * already holds `__` could not be told apart after the mapping, so it is refused.
 */
import { ServerRequestError } from '../../errors';

const openAiName = /^[A-Za-z0-9_-]{1,64}$/;

/** `pdf.extract` -> `pdf__extract`. */
export function toOpenAiToolName(name: string): string {
  if (name.includes('__')) {
    throw new ServerRequestError(`Tool name "${name}" contains "__", which the OpenAI mapping (. <-> __) reserves; rename the tool.`, {
      details: { status: 400, param: 'tools', type: 'invalid_request_error' },
    });
  }
  return name.replaceAll('.', '__');
}

/** `pdf__extract` -> `pdf.extract`; `param` names the request field in the error. */
export function fromOpenAiToolName(name: string, param = 'tools'): string {
  if (!openAiName.test(name)) {
    throw new ServerRequestError(`Tool name "${name}" is not a valid OpenAI function name (letters, digits, _ and -, at most 64).`, {
      details: { status: 400, param, type: 'invalid_request_error' },
    });
  }
  return name.replaceAll('__', '.');
}
