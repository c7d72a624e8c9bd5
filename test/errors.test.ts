import { describe, expect, it } from 'vitest';
import { AutoglmError, ModelLoadError, WorkflowSpecError } from '../src/errors';

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

  it('recognises errors by shape across package copies', () => {
    expect(AutoglmError.isInstance(new WorkflowSpecError('cycle'))).toBe(true);
    expect(AutoglmError.isInstance(new Error('plain'))).toBe(false);
  });
});
