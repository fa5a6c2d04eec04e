/**
 * The signed-in session: the bearer token arrives in the sign-in link's fragment
 * (/portal/#token=<jwt>: a fragment never reaches a server or its logs), is moved to sessionStorage
 * (gone when the tab closes; never localStorage) and the fragment is cleared from the address bar
 * and history at once.
 */
const KEY = 'lightbox.token';

/** Takes a token out of the location's fragment, if there is one; returns true when it did. */
export function acceptSignInLink() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('token');
  if (!token) return false;
  sessionStorage.setItem(KEY, token);
  history.replaceState(null, '', `${location.pathname}#/studies`);
  return true;
}

export function token() {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}
