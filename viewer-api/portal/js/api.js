/**
 * Calls to Lightbox's HTTP API with a bearer token. Errors come back as application/problem+json
 * (RFC 9457); they are thrown as ApiError with the status and the problem's title and detail, so a
 * page can tell "not available" (404) from "signed out" (401) from a real failure.
 */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

/** A message for the user: what failed, in words, without a stack. */
export function describeError(error, what) {
  if (error instanceof ApiError) {
    if (error.status === 401)
      return `${what}: your session has ended. Open your sign-in link again.`;
    if (error.status === 404) return `${what}: not available.`;
    if (error.status === 423 || error.status === 429)
      return `${what}: locked after too many attempts.`;
    return `${what}: ${error.message} (HTTP ${error.status}).`;
  }
  return `${what}: the server could not be reached.`;
}

/**
 * fetch with `Authorization: Bearer <token>` when a token is given. `as` is 'json' (default),
 * 'blob' or 'none'; `body` objects are sent as JSON.
 */
export async function request(
  url,
  { token, method = 'GET', body, accept, as = 'json', signal } = {},
) {
  const headers = new Headers();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (accept) headers.set('Accept', accept);
  else if (as === 'json') headers.set('Accept', 'application/json, application/dicom+json');
  let payload;
  if (body !== undefined) {
    headers.set('Content-Type', 'application/json');
    payload = JSON.stringify(body);
  }
  const response = await fetch(url, {
    method,
    headers,
    body: payload,
    signal,
    credentials: 'omit',
  });
  if (!response.ok) {
    const problem = await response.json().catch(() => undefined);
    throw new ApiError(response.status, problem);
  }
  if (as === 'none' || response.status === 204) return undefined;
  if (as === 'blob') return response.blob();
  const text = await response.text();
  return text === '' ? undefined : JSON.parse(text);
}

/** An API bound to one token (the signed-in account's, or a share link's access token). */
export function apiClient(getToken) {
  return (url, options = {}) => request(url, { ...options, token: getToken() });
}
