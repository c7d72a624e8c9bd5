/**
 * zod 4 is autoglm's peer dependency. A zod 3 schema (another copy of zod in the user's project) has `_def` but not
 * zod 4's `_zod` internals, and deep inside `z.toJSONSchema` fails as "Cannot read properties of undefined (reading
 * 'def')". The boundaries that take a schema (defineTool, ToolRegistry, plugins, generate's `schema`) check it here.
 */
import { ZodVersionError } from './errors';

/** True for a zod 3 schema object (`_def` and `safeParse`, no `_zod`). */
export function isZod3Schema(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !('_zod' in value) &&
    '_def' in value &&
    typeof (value as { safeParse?: unknown }).safeParse === 'function'
  );
}

/** Throws ZodVersionError when `value` is a zod 3 schema; `where` names the field (e.g. `tool "x": input`). */
export function assertNotZod3(value: unknown, where: string): void {
  if (!isZod3Schema(value)) return;
  throw new ZodVersionError(
    `${where} is a zod 3 schema; autoglm needs zod 4 (its peer dependency). Install zod@^4 and build the schema ` +
      "with `import { z } from 'zod'` (with zod 3.25 installed, `import { z } from 'zod/v4'` gives zod 4 schemas).",
    { details: { where, zodVersion: 3 } },
  );
}
