import { GenerationError } from '../errors';
import { assertKnownNames, assertOneOf } from '../strict-options';
import type { ChatMessage, ChatRole } from './language-model';

/** GLM's roles; a tool result is an `observation` (other libraries call it `tool` or `function`). */
export const chatRoles = Object.keys({ system: true, user: true, assistant: true, observation: true } satisfies Record<ChatRole, true>) as ChatRole[];

const messageFieldNames = Object.keys({ role: true, content: true, metadata: true } satisfies Record<keyof ChatMessage, true>);

/** Refuses roles and message fields GLM's chat template does not know, naming the message's index. */
export function checkChatMessages(messages: readonly unknown[]): asserts messages is readonly ChatMessage[] {
  messages.forEach((message, index) => {
    const where = `chat message ${index}`;
    if (typeof message !== 'object' || message === null) {
      throw new GenerationError(`${where}: expected an object { role, content }, got ${JSON.stringify(message) ?? String(message)}.`, { details: { index } });
    }
    assertKnownNames(message, messageFieldNames, { where, kind: 'field', error: GenerationError });
    const { role, content, metadata } = message as Partial<ChatMessage>;
    assertOneOf(role, chatRoles, { where, field: 'role', error: GenerationError, hint: 'Tool results are `observation` messages in GLM.' });
    if (typeof content !== 'string') {
      throw new GenerationError(`${where}: content must be a string, got ${JSON.stringify(content) ?? String(content)}.`, { details: { index, field: 'content' } });
    }
    if (metadata !== undefined && typeof metadata !== 'string') {
      throw new GenerationError(`${where}: metadata must be a string (the tool name of an assistant tool call).`, { details: { index, field: 'metadata' } });
    }
  });
}
