import { attributeProblem, stringProblem } from './attribute-types';

describe(attributeProblem.name, () => {
  it.each([
    ['time', '2018-04-05T17:31:00Z'],
    ['time', '2018-04-05t17:31:00.123456-08:00'],
    ['time', '2016-12-31T23:59:60Z'],
    ['time', '2024-02-29T00:00:00+14:00'],
    ['source', 'https://example.com/a?b=c#d'],
    ['source', '/relative/path'],
    ['source', 'urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66'],
    ['source', '/caf%C3%A9'],
    ['dataschema', 'https://example.com/schema.json'],
    ['datacontenttype', 'application/json'],
    ['datacontenttype', 'text/plain;charset=utf-8'],
    ['datacontenttype', 'text/plain ; charset="a \\"quoted\\" value"'],
    ['id', 'café 𝄞 e\u0301'],
  ])('accepts %s %j', (name, value) => {
    expect(attributeProblem(name, value)).toBeUndefined();
  });

  it.each([
    ['time', '2018-04-05T17:31:00', /RFC 3339/],
    ['time', '2018-04-05T17:31:00+0530', /RFC 3339/],
    ['time', '2023-02-29T00:00:00Z', /RFC 3339/],
    ['time', '2018-04-05 17:31:00Z', /RFC 3339/],
    ['source', '/a b', /URI/],
    ['source', '/café', /URI/],
    ['source', '/a%zz', /URI/],
    ['dataschema', '/relative', /absolute URI/],
    ['datacontenttype', 'not a media type', /media type/],
    ['datacontenttype', 'text/plain\r\nx-evil: 1', /control characters/],
    ['datacontenttype', 'text/', /media type/],
    ['id', 'a\u0000b', /control characters \(U\+0000\)/],
    ['type', 'a\u0085b', /control characters \(U\+0085\)/],
    ['subject', 'a\ud800b', /unpaired surrogate/],
    ['subject', 'a\u{10FFFF}', /noncharacter/],
    ['myext', 'a\u001bb', /control characters/],
  ])('refuses %s %j', (name, value, reason) => {
    expect(attributeProblem(name, value)).toMatch(reason);
  });
});

describe(stringProblem.name, () => {
  it('accepts paired surrogates (astral characters)', () => {
    expect(stringProblem('\ud834\udd1e')).toBeUndefined();
  });
});
