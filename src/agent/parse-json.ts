/**
 * JSON.parse that also accepts raw control characters inside strings (a model, or a grammar that lets them through,
 * may write a literal tab or newline in a string; JSON wants them escaped). Nothing else is relaxed.
 */
export function parseModelJson(text: string): unknown {
  return JSON.parse(escapeControlCharactersInStrings(text));
}

function escapeControlCharactersInStrings(text: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f]/.test(text)) return text;
  let output = '';
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    const code = char.charCodeAt(0);
    if (inString && char === '\\') {
      output += char + (text[index + 1] ?? '');
      index += 1;
    } else if (char === '"') {
      inString = !inString;
      output += char;
    } else if (inString && code < 0x20) {
      output += `\\u${code.toString(16).padStart(4, '0')}`;
    } else {
      output += char;
    }
  }
  return output;
}
