export interface HttpResult<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** POSTs JSON (or a raw string with its own content type) and parses the JSON answer. */
export async function post<T = Record<string, unknown>>(
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const raw = typeof body === 'string' || body === undefined;
  const response = await fetch(url, {
    method: 'POST',
    headers: raw ? headers : { 'content-type': 'application/json', ...headers },
    body: raw ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as T };
}

export async function get<T = Record<string, unknown>>(
  url: string,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const response = await fetch(url, { headers });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* text exposition */
  }
  return { status: response.status, headers: response.headers, body: body as T };
}

/** The error shape every 4xx/5xx must have. */
export function expectErrorShape(body: Record<string, unknown>, status: number): void {
  expect(body).toMatchObject({ status: 'error', statusCode: status });
  expect(typeof body.error).toBe('string');
  expect(typeof body.code).toBe('string');
  expect(typeof body.message).toBe('string');
  expect(typeof body.requestId).toBe('string');
}
