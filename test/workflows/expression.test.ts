import { describe, expect, it } from 'vitest';
import { WorkflowRunError } from '../../src/errors';
import { evaluateExpression, ExpressionSyntaxError, expressionPaths, parseExpression } from '../../src/workflows/expression';
import { collectTemplates, conditionExpression, resolveTemplates } from '../../src/workflows/template';

const scope = {
  inputs: { name: 'acme', limit: 3, flags: ['a', 'b'] },
  steps: {
    extract: { status: 'succeeded', output: { text: 'hello', pages: [{ n: 1 }, { n: 2 }], count: 4, 'odd key': true } },
    empty: { status: 'succeeded', output: { count: 0, list: [] } },
  },
};

const evaluate = (source: string) => evaluateExpression(parseExpression(source), scope);

describe('expression paths', () => {
  it('reads nested fields, array indexes and quoted keys', () => {
    expect(evaluate('inputs.name')).toBe('acme');
    expect(evaluate('steps.extract.output.pages[1].n')).toBe(2);
    expect(evaluate("steps.extract.output['odd key']")).toBe(true);
    expect(evaluate('steps.extract.output')).toEqual(scope.steps.extract.output);
  });

  it('a field missing inside a value that exists is a WorkflowRunError naming the reference, never undefined', () => {
    expect(() => evaluate('steps.extract.output.totl')).toThrow(WorkflowRunError);
    expect(() => evaluate('steps.extract.output.totl')).toThrow(
      'Reference "steps.extract.output.totl" does not exist: steps.extract.output has no field "totl" (it is fields: text, pages, count, odd key).',
    );
    expect(() => evaluate('inputs.flags[5]')).toThrow('Reference "inputs.flags[5]" does not exist: inputs.flags has no item 5 (it is a list of 2).');
    expect(() => evaluate('steps.extract.output.pages[0].m > 1')).toThrow(/steps\.extract\.output\.pages\.0 has no field "m"/);
  });

  it('names checked at load time may be absent at run time: an optional input, a step without output or error', () => {
    expect(evaluate('inputs.optional')).toBeUndefined();
    expect(evaluate('steps.extract.error')).toBeUndefined();
    expect(evaluate('steps.pending.output.x')).toBeUndefined();
    expect(evaluate('steps.extract.output.text.length')).toBe(5);
  });

  it('does not reach inherited properties', () => {
    expect(evaluate('inputs.constructor')).toBeUndefined();
    expect(() => evaluate('steps.extract.output.__proto__')).toThrow(WorkflowRunError);
  });

  it('lists the paths an expression reads', () => {
    const paths = expressionPaths(parseExpression('steps.a.output.x > 1 && !(inputs.y == "z")'));
    expect(paths.map((p) => p.segments)).toEqual([['steps', 'a', 'output', 'x'], ['inputs', 'y']]);
    expect(paths[0].source).toBe('steps.a.output.x');
  });
});

describe('conditions', () => {
  it.each([
    ['steps.extract.output.count > 0', true],
    ['steps.empty.output.count > 0', false],
    ['steps.extract.output.count >= 4 && inputs.limit < 4', true],
    ['steps.extract.output.count == 4', true],
    ['steps.extract.output.count != 4', false],
    ['steps.extract.output.count <= 3 || inputs.name == "acme"', true],
    ["inputs.name == 'acme'", true],
    ['!steps.empty.output.list', true],
    ['!(steps.extract.output.count > 0)', false],
    ['steps.nothing.output == null', true],
    ['true && false', false],
    ['-1 < 0', true],
    ["'10' > 9", false],
  ])('%s is %s', (source, expected) => {
    expect(Boolean(evaluate(source))).toBe(expected);
  });

  it('strips ${{ }} around an if expression', () => {
    expect(conditionExpression('${{ steps.a.output.count > 0 }}')).toBe('steps.a.output.count > 0');
    expect(conditionExpression('steps.a.output.ok')).toBe('steps.a.output.ok');
  });

  it.each(['', 'a +', 'steps.a.output >', '(a', 'a[', "'open", 'a..b', 'eval("x")', 'a; b', 'a = 1'])('rejects %j', (source) => {
    expect(() => parseExpression(source)).toThrow(ExpressionSyntaxError);
  });
});

describe('templates', () => {
  it('keeps the type of a value that is exactly one reference', () => {
    expect(resolveTemplates('${{ inputs.limit }}', scope)).toBe(3);
    expect(resolveTemplates('${{ steps.extract.output.pages }}', scope)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(resolveTemplates(' ${{ steps.extract.output.count > 2 }} ', scope)).toBe(true);
  });

  it('interpolates embedded references into a string', () => {
    expect(resolveTemplates('${{ inputs.name }} has ${{ steps.extract.output.count }} pages: ${{ inputs.flags }}', scope)).toBe(
      'acme has 4 pages: ["a","b"]',
    );
    expect(resolveTemplates('x${{ steps.none.output }}y', scope)).toBe('xy');
  });

  it('resolves deep inside objects and arrays, dropping keys that resolve to undefined', () => {
    expect(resolveTemplates({ a: ['${{ inputs.name }}', { b: '${{ inputs.limit }}' }], gone: '${{ inputs.nope }}', n: 1 }, scope)).toEqual({
      a: ['acme', { b: 3 }],
      n: 1,
    });
  });

  it('collects templates with their location', () => {
    expect(collectTemplates({ a: ['${{ x.y }} and ${{ z }}'], b: 2 })).toEqual([
      { expression: 'x.y', path: ['a', 0] },
      { expression: 'z', path: ['a', 0] },
    ]);
  });
});
