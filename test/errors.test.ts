import { describe, expect, it, vi } from 'vitest';
import * as errors from '../src/errors';
import { AutoglmError, ModelFormatError, ModelLoadError, WorkflowSpecError, type ErrorCode } from '../src/errors';

describe('AutoglmError', () => {
  it('gives each subclass its stable code, name, cause and details', () => {
    const cause = new Error('ENOENT');
    const error = new ModelLoadError('config.json is missing in /m', { cause, details: { file: '/m/config.json' } });
    expect(error).toBeInstanceOf(AutoglmError);
    expect(error.code).toBe('MODEL_LOAD');
    expect(ModelLoadError.code).toBe('MODEL_LOAD');
    expect(error.name).toBe('ModelLoadError');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ file: '/m/config.json' });
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ code: 'MODEL_LOAD', details: { file: '/m/config.json' } });
  });

  it('isInstance checks the class, not only the base', () => {
    const error = new WorkflowSpecError('cycle');
    expect(AutoglmError.isInstance(error)).toBe(true);
    expect(WorkflowSpecError.isInstance(error)).toBe(true);
    expect(ModelLoadError.isInstance(error)).toBe(false);
    expect(AutoglmError.isInstance(new Error('plain'))).toBe(false);
    expect(AutoglmError.isInstance({ code: 'MODEL_LOAD', details: {} })).toBe(false);
    expect(AutoglmError.isInstance(undefined)).toBe(false);
  });

  it('isInstance recognises errors from another copy of the package (Symbol.for markers)', async () => {
    // A second module instance, as a CJS and an ESM build of the package loaded side by side would give.
    vi.resetModules();
    const copy = (await import('../src/errors')) as typeof errors;
    expect(copy.ModelLoadError).not.toBe(ModelLoadError);
    const foreign = new copy.ModelLoadError('from the other copy');
    expect(foreign).not.toBeInstanceOf(ModelLoadError);
    expect(ModelLoadError.isInstance(foreign)).toBe(true);
    expect(AutoglmError.isInstance(foreign)).toBe(true);
    expect(ModelFormatError.isInstance(foreign)).toBe(false);
  });

  it('every class has a distinct code listed in ErrorCode, and no class is left without use', () => {
    const classes = Object.values(errors).filter(
      (value): value is typeof AutoglmError => typeof value === 'function' && value.prototype instanceof Error,
    );
    const codes = classes.map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    // A type-level check: assigning each code to ErrorCode compiles only when the union lists it.
    const listed: ErrorCode[] = codes;
    expect(listed).toContain('WORKFLOW_SPEC');
    expect(Object.keys(errors)).not.toContain('StepFailedError');
  });
});
