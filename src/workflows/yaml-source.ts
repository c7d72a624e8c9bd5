/**
 * A workflow YAML text parsed into a `yaml` Document with source ranges, so that every spec error can name the
 * line it comes from.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { WorkflowSpecError } from '../errors';

/** Longest workflow text accepted (8 MB): bounds parsing time before any check runs. */
const maxYamlLength = 8 * 1024 * 1024;

export class YamlSource {
  readonly #document: Document;
  readonly #lines = new LineCounter();

  /** Parses `text`; a YAML syntax error becomes a WorkflowSpecError naming the line. */
  constructor(text: string, readonly file?: string) {
    if (typeof text !== 'string') {
      throw new WorkflowSpecError(`Workflow YAML must be a string of YAML text, got ${text === null ? 'null' : typeof text}${file ? ` (${file})` : ''}. Read the file first, or use Workflow.load(path).`, {
        details: { file },
      });
    }
    if (text.length > maxYamlLength) {
      throw new WorkflowSpecError(`Workflow YAML${file ? ` ${file}` : ''} is ${text.length} characters; the limit is ${maxYamlLength}. Split the workflow into nested workflow files.`, {
        details: { file },
      });
    }
    this.#document = parseDocument(text, { lineCounter: this.#lines, prettyErrors: true, uniqueKeys: true });
    const error = this.#document.errors[0];
    if (error !== undefined) {
      const line = error.linePos?.[0].line;
      const where = [file, line === undefined ? undefined : `line ${line}`].filter(Boolean).join(', ');
      throw new WorkflowSpecError(`Invalid workflow YAML${where ? ` (${where})` : ''}: ${error.message.split('\n')[0]}. Fix the YAML syntax.`, {
        details: { file, line, field: undefined, step: undefined },
      });
    }
  }

  /**
   * The plain JS value of the document. Aliases are expanded with a bound (the yaml package's maxAliasCount), so
   * an alias bomb ("billion laughs") is a spec error, not minutes of work or a ReferenceError.
   */
  toJS(): unknown {
    try {
      return this.#document.toJS({ maxAliasCount: 100 });
    } catch (cause) {
      const file = this.file;
      throw new WorkflowSpecError(`Invalid workflow YAML${file ? ` (${file})` : ''}: ${(cause as Error).message}. Workflows may use at most 100 alias expansions; write the values out.`, {
        cause,
        details: { file },
      });
    }
  }

  /**
   * The 1-based line of the deepest node on `path` that exists (the key's line for a map entry), so a missing or
   * misspelt field still points at its parent.
   */
  lineOf(path: ReadonlyArray<string | number>): number | undefined {
    let node: unknown = this.#document.contents;
    let offset = this.#offset(node);
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
        if (pair === undefined) break;
        offset = this.#offset(pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number' && node.items[segment] !== undefined) {
        node = node.items[segment];
        offset = this.#offset(node) ?? offset;
      } else {
        break;
      }
    }
    return offset === undefined ? undefined : this.#lines.linePos(offset).line;
  }

  #offset(node: unknown): number | undefined {
    return (node as Node | null)?.range?.[0];
  }
}
