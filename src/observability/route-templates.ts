/** A route as Express knows it: its path pattern and the methods it answers. */
export interface KnownRoute {
  path: string;
  methods: string[];
}

interface RouterLayer {
  route?: { path: unknown; methods?: Record<string, boolean> };
}

/** Express 5 wildcards (`/{*path}`, `*splat`): how Nest mounts middleware, never a handler's template. */
export function isCatchAll(path: string): boolean {
  return path.includes('*');
}

/** Nest's `/actuator/metrics/:name` as Spring writes templates: `/actuator/metrics/{name}`. */
export function springTemplate(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

/** Spring's fixed `uri` values when no handler matched (WebMvcTags). */
export function unmatchedUri(status: number): string {
  if (status >= 300 && status < 400) {
    return 'REDIRECTION';
  }
  return status === 404 ? 'NOT_FOUND' : 'UNKNOWN';
}

/** The routes registered on an Express app's router (Express 5 keeps them in `router.stack`). */
export function routesOf(expressApp: unknown): KnownRoute[] {
  const stack = (expressApp as { router?: { stack?: RouterLayer[] } }).router?.stack ?? [];
  return stack
    .filter((layer) => typeof layer.route?.path === 'string' && !isCatchAll(layer.route.path))
    .map((layer) => ({
      path: layer.route!.path as string,
      methods: Object.keys(layer.route!.methods ?? {}).map((m) => m.toUpperCase()),
    }));
}

/**
 * Finds the route template for a request that was answered before routing (a middleware refused its
 * body), so `uri` stays the template rather than the raw path. Literal routes win over parameterised ones,
 * as in Express' registration order for our controllers.
 */
export class RouteTemplates {
  private readonly matchers: { template: string; methods: string[]; pattern: RegExp }[];

  constructor(routes: KnownRoute[]) {
    this.matchers = routes
      .map((route) => ({
        template: springTemplate(route.path),
        methods: route.methods,
        pattern: new RegExp(
          `^${route.path
            .split(/(:\w+)/)
            .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
            .join('')}/?$`,
        ),
      }))
      .sort((a, b) => Number(a.template.includes('{')) - Number(b.template.includes('{')));
  }

  match(method: string, path: string): string | undefined {
    return this.matchers.find(
      (m) => (m.methods.includes(method) || m.methods.includes('_ALL')) && m.pattern.test(path),
    )?.template;
  }
}
