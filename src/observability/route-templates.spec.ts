import { outcomeOf } from './http-metrics.middleware';
import { RouteTemplates, springTemplate, unmatchedUri } from './route-templates';

describe(RouteTemplates.name, () => {
  const sut = new RouteTemplates([
    { path: '/actuator/metrics/:name', methods: ['GET'] },
    { path: '/api/messages', methods: ['POST'] },
    { path: '/api/messages/batch', methods: ['POST'] },
  ]);

  it("writes Nest's :param as Spring's {param}", () => {
    expect(springTemplate('/actuator/health/:component')).toBe('/actuator/health/{component}');
  });

  it('maps a raw path to its route template for the same method', () => {
    expect(sut.match('GET', '/actuator/metrics/http.server.requests')).toBe('/actuator/metrics/{name}');
    expect(sut.match('POST', '/api/messages/batch')).toBe('/api/messages/batch');
  });

  it('does not match another method or a deeper path', () => {
    expect(sut.match('GET', '/api/messages')).toBeUndefined();
    expect(sut.match('GET', '/actuator/metrics/a/b')).toBeUndefined();
  });

  it("uses Spring's fixed uri values when no route matched", () => {
    expect([unmatchedUri(404), unmatchedUri(302), unmatchedUri(415)]).toEqual([
      'NOT_FOUND',
      'REDIRECTION',
      'UNKNOWN',
    ]);
  });

  it("derives Spring's outcome from the status class", () => {
    expect([101, 200, 304, 404, 503, 999].map(outcomeOf)).toEqual([
      'INFORMATIONAL',
      'SUCCESS',
      'REDIRECTION',
      'CLIENT_ERROR',
      'SERVER_ERROR',
      'UNKNOWN',
    ]);
  });
});
