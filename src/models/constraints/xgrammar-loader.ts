/**
 * Loads `@mlc-ai/web-xgrammar` (XGrammar compiled to WebAssembly) once, lazily.
 *
 * The package is a UMD bundle in a `"type": "module"` package: Node refuses to `require` it and, imported as ESM, it
 * finds neither `require` nor `__filename`. We therefore evaluate its source as the CommonJS module it really is, with
 * a `require` made by `createRequire`. Three edits to the source, all checked:
 * - its one `import('module')` becomes `require('module')`: a dynamic import inside `new Function` code fails where
 *   modules run in a VM context (vitest), and `require` is what the bundle wanted anyway;
 * - an accessor for the Emscripten module (`binding`) is added, because the package's public
 *   `getNextTokenBitmask()` is async and copies the mask, while the generation loop needs the mask synchronously
 *   and without a copy per token (`vecIntToView` gives a view into the WebAssembly heap);
 * - the Emscripten module gets a `printErr`: XGrammar reports a bad schema or grammar on stderr ("[FATAL] ...
 *   Unsupported type") and then aborts with a bare "Aborted()"; we keep that text for the error we throw instead.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type {
  CompiledGrammar,
  Grammar,
  GrammarCompiler,
  GrammarMatcher,
  TokenizerInfo,
} from '@mlc-ai/web-xgrammar';
import { ModelLoadError } from '../../errors';

/** The part of the Emscripten module we use. */
export interface XGrammarBinding {
  /** A view of a `std::vector<int32_t>` in the WebAssembly heap; valid until the heap grows or the vector is freed. */
  vecIntToView(vector: XGrammarIntVector): Int32Array;
  /**
   * The matcher constructor. Called directly because the package's factory leaks a TokenizerInfo handle per call
   * (it asks the compiled grammar for one just to read the vocabulary size).
   */
  GrammarMatcher: new (
    compiledGrammar: unknown,
    overrideStopTokens: undefined,
    terminateWithoutStopToken: boolean,
    maxRollbackTokens: number,
  ) => XGrammarMatcherHandle;
}

/** A `std::vector<int32_t>` owned by WebAssembly; `delete()` frees it. */
export interface XGrammarIntVector {
  delete(): void;
}

/** The embind GrammarMatcher object (the package's wrapper only adds an async copy of the mask). */
export interface XGrammarMatcherHandle {
  AcceptToken(tokenId: number, verbose: boolean): boolean;
  GetNextTokenBitmask(vocabSize: number): XGrammarIntVector;
  IsTerminated(): boolean;
  /** The longest string every continuation the grammar allows starts with (XGrammar's jump-forward string). */
  FindJumpForwardString(): string;
  Rollback(count: number): void;
  delete(): void;
}

export interface XGrammarModule {
  Grammar: typeof Grammar;
  GrammarCompiler: typeof GrammarCompiler;
  CompiledGrammar: typeof CompiledGrammar;
  GrammarMatcher: typeof GrammarMatcher;
  TokenizerInfo: typeof TokenizerInfo;
  /** The initialised Emscripten module (call after any async API call, which initialises it). */
  binding(): XGrammarBinding;
  /** What XGrammar wrote to stderr since the last call (its reason for an abort), cleared. */
  takeErrorOutput(): string;
}

const packageName = '@mlc-ai/web-xgrammar';
// The statements of the bundle we edit; present in 0.1.27 (the pinned version).
const bindingMarker = 'let binding = null;';
const bindingAccessor = 'exports.__autoglmBinding = () => binding;';
const dynamicImport = "await import('module')";
const moduleInit = 'binding = await Module();';

let loading: Promise<XGrammarModule> | undefined;

/** The XGrammar module, loaded on first use and shared by every compiler. */
export function loadXGrammar(): Promise<XGrammarModule> {
  loading ??= Promise.resolve()
    .then(evaluateBundle)
    .catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
  return loading;
}

function evaluateBundle(): XGrammarModule {
  // import.meta.url in ESM (and under vitest); the CommonJS build has no import.meta but has __filename.
  const metaUrl: string | undefined = import.meta.url;
  const base = metaUrl ?? __filename;
  const requireFromHere = createRequire(base);
  let file: string;
  let source: string;
  try {
    file = requireFromHere.resolve(packageName);
    source = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ModelLoadError(
      `Cannot find ${packageName} (grammar-constrained decoding). Install it with \`npm install ${packageName}@0.1.27\`.`,
      { cause: error, details: { package: packageName } },
    );
  }
  if (![bindingMarker, dynamicImport, moduleInit].every((statement) => source.includes(statement))) {
    throw new ModelLoadError(
      `${file} is not the ${packageName} bundle autoglm was built against (its source lacks the statements we hook). ` +
        `Install ${packageName}@0.1.27.`,
      { details: { package: packageName, file } },
    );
  }
  const patched = source
    .replace(bindingMarker, `${bindingMarker} ${bindingAccessor}`)
    .replace(dynamicImport, "require('module')")
    .replace(moduleInit, 'binding = await Module(exports.__autoglmModuleOptions);');
  let errorOutput: string[] = [];
  const moduleObject: { exports: Record<string, unknown> } = {
    exports: {
      __autoglmModuleOptions: {
        printErr: (text: string) => {
          errorOutput.push(text);
          if (errorOutput.length > 20) errorOutput.shift();
        },
      },
    },
  };
  // The bundle is CommonJS in disguise: run it with CommonJS's five parameters.
  const run = new Function('exports', 'module', 'require', '__filename', '__dirname', patched) as (
    ...args: unknown[]
  ) => void;
  run(moduleObject.exports, moduleObject, createRequire(file), file, file.replace(/[\\/][^\\/]*$/, ''));
  const loaded = moduleObject.exports as unknown as Omit<XGrammarModule, 'binding'> & {
    __autoglmBinding: () => XGrammarBinding | null;
  };
  return {
    Grammar: loaded.Grammar,
    GrammarCompiler: loaded.GrammarCompiler,
    CompiledGrammar: loaded.CompiledGrammar,
    GrammarMatcher: loaded.GrammarMatcher,
    TokenizerInfo: loaded.TokenizerInfo,
    binding() {
      const binding = loaded.__autoglmBinding();
      if (binding === null) throw new ModelLoadError('XGrammar used before its WebAssembly module was initialised.');
      return binding;
    },
    takeErrorOutput() {
      const text = errorOutput.join('\n');
      errorOutput = [];
      return text;
    },
  };
}
