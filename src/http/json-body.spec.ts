import { duplicateMember, parseJsonBody } from './json-body';

describe(duplicateMember.name, () => {
  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":{"b":1,"c":{"b":2},"b":3}}', 'a.b'],
    ['[{"x":1},{"y":[1,{"z":1,"z":2}]}]', '[1].y[1].z'],
    ['{"a\\"b":1,"a\\u0022b":2}', 'a"b'],
    ['{"k":"{\\"k\\":1,","k":2}', 'k'],
  ])('names the repeated member of %s as %s', (text, field) => {
    expect(duplicateMember(text)).toBe(field);
  });

  it.each(['{"a":1,"b":{"a":1}}', '[{"a":1},{"a":2}]', '{"a":"\\"a\\":1,\\"a\\""}', '"a"', '[]'])(
    'finds none in %s',
    (text) => {
      expect(duplicateMember(text)).toBeUndefined();
    },
  );
});

describe(parseJsonBody.name, () => {
  it('refuses a repeated member with INVALID_INPUT naming it, instead of keeping the last', () => {
    expect(() => parseJsonBody('{"content":"first","content":"second"}')).toThrow(
      /content: member appears more than once/,
    );
  });
});
