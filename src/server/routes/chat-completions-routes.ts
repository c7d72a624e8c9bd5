/**
 * `POST /v1/chat/completions`: OpenAI's chat completions over a served GLM model, streamed (SSE) or not. Tool
 * calls and structured output are grammar-constrained by the model (GenerateOptions `tools` / `schema`).
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ServerRequestError } from '../../errors';
import { modelSequences, type GenerateResult } from '../../models/language-model';
import { GlmOutputSplitter, type GlmOutputPart } from '../glm-output-splitter';
import { parseChatRequest, toGlmRequest } from '../openai/chat-request';
import { ChatCompletionChunks, chatCompletion, finishReasonOf } from '../openai/chat-response';
import { toOpenAiError } from '../openai/openai-error';
import type { ServerContext } from '../server-context';
import { unknownModel } from './models-routes';

/**
 * Aborted when the client goes away, the deadline passes, or the server shuts down; `reason()` says which.
 * Composed by hand (not AbortSignal.any) so that `dispose` detaches it from the long-lived shutdown signal and
 * clears the deadline timer: nothing per request outlives the request.
 */
function requestSignal(reply: FastifyReply, context: ServerContext): { signal: AbortSignal; reason: () => string | undefined; dispose: () => void } {
  const controller = new AbortController();
  let why: 'client' | 'deadline' | 'shutdown' | undefined;
  const abort = (reason: 'client' | 'deadline' | 'shutdown') => {
    if (why !== undefined) return;
    why = reason;
    controller.abort();
  };
  const onClose = () => {
    if (!reply.raw.writableFinished) abort('client');
  };
  const onShutdown = () => abort('shutdown');
  reply.raw.on('close', onClose);
  context.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
  if (context.shutdown.signal.aborted) abort('shutdown');
  const timer = setTimeout(() => abort('deadline'), context.options.requestTimeoutMs);
  return {
    signal: controller.signal,
    reason: () =>
      why === 'deadline'
        ? `The request passed its deadline of ${context.options.requestTimeoutMs} ms (queue wait included); ask for fewer tokens or retry later.`
        : why === 'shutdown'
          ? 'The server is shutting down; retry on another instance or after the restart.'
          : why === 'client'
            ? 'client disconnected'
            : undefined,
    dispose: () => {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
      context.shutdown.signal.removeEventListener('abort', onShutdown);
    },
  };
}

function abortedError(message: string): ServerRequestError {
  const shutdown = message.startsWith('The server');
  return new ServerRequestError(message, { details: { status: shutdown ? 503 : 504, type: shutdown ? 'service_unavailable_error' : 'timeout_error', param: null } });
}

export const chatCompletionsRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (app, { context }) => {
  app.post('/v1/chat/completions', async (request, reply) => {
    const body = parseChatRequest(request.body);
    const provided = context.models.get(body.model);
    if (provided === undefined) throw unknownModel(body.model, context, 'model');
    // On the raw response so it reaches streamed (hijacked) replies too; writeHead merges it.
    reply.raw.setHeader('x-autoglm-model-version', provided.version);
    const glm = toGlmRequest(body, context.options.defaultMaxTokens);
    const release = context.queue.admit(body.model, modelSequences(provided.model));
    const abort = requestSignal(reply, context);
    const model = context.instrumented(provided.model);
    const splitter = new GlmOutputSplitter(glm.tools.length > 0);
    const events = model.stream(glm.messages, { ...glm.options, signal: abort.signal });
    try {
      if (body.stream !== true) {
        let result: GenerateResult | undefined;
        for await (const event of events) {
          if (event.type === 'token') splitter.push(event.text);
          else result = event;
        }
        splitter.end();
        const reason = abort.reason();
        if (result === undefined || (result.finishReason === 'abort' && reason !== undefined)) throw abortedError(reason ?? 'The generation ended without a result.');
        const toolCall = splitter.toolCall;
        return chatCompletion({
          model: body.model,
          version: provided.version,
          text: splitter.text,
          toolCall,
          finishReason: finishReasonOf(result.finishReason, toolCall !== undefined),
          usage: result.usage,
        });
      }

      const chunks = new ChatCompletionChunks(body.model, provided.version, body.stream_options?.include_usage === true);
      // The first event decides the status: a bad prompt (too long, bad schema) is still a plain 400.
      const first = await events.next();
      reply.hijack();
      // Headers set by hooks (CORS) are kept: a hijacked reply writes its own.
      reply.raw.writeHead(200, { ...(reply.getHeaders() as Record<string, string>), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const send = (value: unknown) => reply.raw.write(`data: ${JSON.stringify(value)}\n\n`);
      const sendParts = (parts: GlmOutputPart[]) => parts.forEach((part) => send(chunks.part(part)));
      try {
        let result: GenerateResult | undefined;
        for (let next = first; !next.done; next = await events.next()) {
          const event = next.value;
          if (event.type === 'token') sendParts(splitter.push(event.text));
          else result = event;
        }
        sendParts(splitter.end());
        const reason = abort.reason();
        if (result === undefined || (result.finishReason === 'abort' && reason !== undefined)) {
          if (reason !== 'client disconnected') send(toOpenAiError(abortedError(reason ?? 'The generation ended without a result.')).body);
        } else {
          for (const chunk of chunks.finish(finishReasonOf(result.finishReason, splitter.toolCall !== undefined), result.usage)) send(chunk);
          reply.raw.write('data: [DONE]\n\n');
        }
      } catch (error) {
        // Headers are sent: OpenAI reports a failure mid-stream as an error event.
        send(toOpenAiError(error).body);
      }
      reply.raw.end();
      return reply;
    } finally {
      await events.return(undefined);
      abort.dispose();
      release();
    }
  });
};
