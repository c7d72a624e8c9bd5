/**
 * ChatGLM3's tool-call text (THUDM/ChatGLM3 tool_using demo and tokenization_chatglm.py / modeling_chatglm.py
 * `process_response`): after `<|assistant|>` the model writes the tool name, a newline, then a fenced python block
 * holding `tool_call(k=v, ...)` with Python literals as values. ChatGLM3 evaluates that block with
 * `tool_call = lambda **kwargs: kwargs`; here it is parsed as data, never evaluated: only literals (strings, numbers,
 * True/False/None, lists, tuples, dicts) are accepted.
 */

/** The python block around the arguments, as ChatGLM3 writes it. */
const FENCE_OPEN = '```python\n';
const FENCE_CLOSE = '\n```';

/** `name\n```python\ntool_call(k=v, ...)\n```` for arguments `args` (an object). */
export function chatGlm3CallText(name: string, args: Record<string, unknown>): string {
  const kwargs = Object.entries(args).map(([key, value]) => `${key}=${pythonLiteral(value)}`);
  return `${name}\n${FENCE_OPEN}tool_call(${kwargs.join(', ')})${FENCE_CLOSE}`;
}

/** Python's repr of a JSON value (strings in single quotes, True/False/None), as ChatGLM3 writes its calls. */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'None';
  if (typeof value === 'string') {
    const escaped = value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
    return `'${escaped}'`;
  }
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pythonLiteral(k)}: ${pythonLiteral(v)}`).join(', ')}}`;
  return 'None';
}

export type ChatGlm3CallParse = { ok: true; name: string; args: Record<string, unknown>; argumentsText: string } | { ok: false; reason: string; name?: string };

/** Parses `name\n```python\ntool_call(...)\n```` (the text after `<|assistant|>`); failures are values. */
export function parseChatGlm3Call(text: string): ChatGlm3CallParse {
  const newline = text.indexOf('\n');
  if (newline <= 0) return { ok: false, reason: 'A ChatGLM3 tool call starts with the tool name on its own line.' };
  const name = text.slice(0, newline).trim();
  let body = text.slice(newline + 1).trim();
  if (!body.startsWith('```')) return { ok: false, name, reason: `Tool call "${name}": expected a \`\`\`python block with tool_call(...) after the name line.` };
  body = body.replace(/^```(?:python)?\s*\n?/, '').replace(/\n?```\s*$/, '').trim();
  const match = /^tool_call\s*\(([\s\S]*)\)$/.exec(body);
  if (!match) return { ok: false, name, reason: `Tool call "${name}": the python block must hold exactly tool_call(name=value, ...).` };
  try {
    const parser = new LiteralParser(match[1]!);
    const args = parser.keywordArguments();
    return { ok: true, name, args, argumentsText: body };
  } catch (error) {
    return { ok: false, name, reason: `Tool call "${name}": ${(error as Error).message}` };
  }
}

/** A reader of Python literals and keyword arguments: data only, no names or expressions. */
class LiteralParser {
  #at = 0;
  constructor(readonly source: string) {}

  keywordArguments(): Record<string, unknown> {
    const args: Record<string, unknown> = {};
    this.#space();
    while (this.#at < this.source.length) {
      const key = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.source.slice(this.#at))?.[0];
      if (!key) throw this.#error('expected a keyword argument name');
      this.#at += key.length;
      this.#space();
      this.#expect('=');
      if (key in args) throw this.#error(`argument "${key}" given twice`);
      args[key] = this.#value();
      this.#space();
      if (this.#at < this.source.length) this.#expect(',');
      this.#space();
    }
    return args;
  }

  #value(): unknown {
    this.#space();
    const rest = this.source.slice(this.#at);
    const char = rest[0];
    if (char === "'" || char === '"') return this.#string();
    if (char === '[' || char === '(') return this.#sequence(char === '[' ? ']' : ')');
    if (char === '{') return this.#dict();
    const number = /^-?(\d+\.?\d*(e[+-]?\d+)?|\.\d+)/i.exec(rest)?.[0];
    if (number) {
      this.#at += number.length;
      return Number(number);
    }
    for (const [word, value] of [['True', true], ['False', false], ['None', null]] as const) {
      if (rest.startsWith(word) && !/[A-Za-z0-9_]/.test(rest[word.length] ?? '')) {
        this.#at += word.length;
        return value;
      }
    }
    throw this.#error('expected a literal (string, number, True, False, None, list or dict)');
  }

  #string(): string {
    const quote = this.source[this.#at]!;
    this.#at++;
    let out = '';
    while (this.#at < this.source.length) {
      const char = this.source[this.#at++]!;
      if (char === quote) return out;
      if (char === '\n') break;
      if (char !== '\\') {
        out += char;
        continue;
      }
      const next = this.source[this.#at++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
      if (next !== undefined && next in simple) out += simple[next];
      else if (next === 'u' || next === 'x') {
        const length = next === 'u' ? 4 : 2;
        const hex = this.source.slice(this.#at, this.#at + length);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== length) throw this.#error('bad escape in a string');
        out += String.fromCharCode(parseInt(hex, 16));
        this.#at += length;
      } else throw this.#error(`unknown escape \\${next ?? ''} in a string`);
    }
    throw this.#error('unterminated string');
  }

  #sequence(close: string): unknown[] {
    this.#at++;
    const items: unknown[] = [];
    this.#space();
    while (this.source[this.#at] !== close) {
      items.push(this.#value());
      this.#space();
      if (this.source[this.#at] === ',') this.#at++;
      else if (this.source[this.#at] !== close) throw this.#error(`expected , or ${close}`);
      this.#space();
    }
    this.#at++;
    return items;
  }

  #dict(): Record<string, unknown> {
    this.#at++;
    const out: Record<string, unknown> = {};
    this.#space();
    while (this.source[this.#at] !== '}') {
      const key = this.#value();
      if (typeof key !== 'string' && typeof key !== 'number') throw this.#error('dict keys must be strings or numbers');
      this.#space();
      this.#expect(':');
      out[String(key)] = this.#value();
      this.#space();
      if (this.source[this.#at] === ',') this.#at++;
      else if (this.source[this.#at] !== '}') throw this.#error('expected , or }');
      this.#space();
    }
    this.#at++;
    return out;
  }

  #space(): void {
    while (/\s/.test(this.source[this.#at] ?? '')) this.#at++;
  }

  #expect(char: string): void {
    if (this.source[this.#at] !== char) throw this.#error(`expected "${char}"`);
    this.#at++;
  }

  #error(what: string): Error {
    return new Error(`${what} at offset ${this.#at} of the tool_call arguments; write tool_call(name='value', ...) with Python literals.`);
  }
}
