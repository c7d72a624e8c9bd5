/**
 * Every error the server answers with, in OpenAI's shape: `{ error: { message, type, param, code } }`, so the
 * official clients raise their typed errors (BadRequestError, RateLimitError, ...). `code` is our stable code.
 */
import { AutoglmError } from '../../errors';

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const typeByStatus: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  404: 'not_found_error',
  409: 'conflict_error',
  413: 'invalid_request_error',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'service_unavailable_error',
  504: 'timeout_error',
};

/** The HTTP status and body of any thrown value. */
export function toOpenAiError(error: unknown): { status: number; body: OpenAiErrorBody; retryAfterSeconds?: number } {
  if (AutoglmError.isInstance(error)) {
    const details = error.details as { status?: number; type?: string; param?: string | null; openAiCode?: string; retryAfterSeconds?: number; promptTokens?: number };
    // A prompt longer than the context is the caller's to fix.
    const status = details.status ?? (error.code === 'GENERATION' && details.promptTokens !== undefined ? 400 : error.code === 'TOOL_INPUT' || error.code === 'WORKFLOW_SPEC' ? 400 : 500);
    return {
      status,
      body: { error: { message: error.message, type: details.type ?? typeByStatus[status] ?? 'server_error', param: details.param ?? null, code: details.openAiCode ?? error.code } },
      ...(details.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: details.retryAfterSeconds }),
    };
  }
  const fastify = error as { statusCode?: number; code?: string; message?: string };
  const status = typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 ? fastify.statusCode : 500;
  const message = status === 500 ? `Internal server error: ${fastify.message ?? String(error)}` : (fastify.message ?? String(error));
  return { status, body: { error: { message, type: typeByStatus[status] ?? 'server_error', param: null, code: fastify.code ?? null } } };
}
