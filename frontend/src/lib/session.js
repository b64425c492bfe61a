// Staff session: the token from POST /api/login or /api/setup, kept in
// localStorage (`leaf.session`) so a phone stays logged in across reloads.
//
//   session       store: {token, expires_at, operator: {id, name, role, active, locked_until}} | null
//   checked       store: true once the stored token has been checked with /api/me (or there was none)
//   api(path, {method, body, auth})
//                 fetch JSON; adds the bearer header when logged in; throws ApiError
//                 ({code, status, retryAfter, message, body}) on failure. A 401 on a call made
//                 with the token drops the session (PIN/role changed, disabled, expired).
//   setSession(s) store a new session (after login/setup)
//   logout()      forget the session
//   init()        check the stored token once at start-up (called by the root layout)
//   isAdmin(s)    role helpers

import { writable, get } from 'svelte/store';

const KEY = 'leaf.session';

export class ApiError extends Error {
	/**
	 * @param {string} message
	 * @param {{ code?: string, status?: number, retryAfter?: number | null, body?: any }} [info]
	 */
	constructor(message, { code = 'error', status = 0, retryAfter = null, body = null } = {}) {
		super(message);
		this.name = 'ApiError';
		this.code = code;
		this.status = status;
		this.retryAfter = retryAfter;
		/** The whole error body, e.g. `state` on a 409 version_conflict. */
		this.body = body;
	}
}

function load() {
	if (typeof localStorage === 'undefined') return null;
	try {
		const raw = localStorage.getItem(KEY);
		if (!raw) return null;
		const s = JSON.parse(raw);
		if (!s || typeof s.token !== 'string' || !s.operator) return null;
		// Expired tokens are useless; drop them without asking the server.
		if (typeof s.expires_at === 'number' && s.expires_at * 1000 <= Date.now()) {
			localStorage.removeItem(KEY);
			return null;
		}
		return s;
	} catch {
		return null;
	}
}

function save(s) {
	try {
		if (s) localStorage.setItem(KEY, JSON.stringify(s));
		else localStorage.removeItem(KEY);
	} catch {
		/* storage unavailable: the session lives as long as the page */
	}
}

const initial = load();
export const session = writable(initial);
export const checked = writable(!initial);

/** @param {any} s a Session from the server, or null */
export function setSession(s) {
	save(s);
	session.set(s);
}

export function logout() {
	setSession(null);
}

/** Keep the stored operator (name, role) up to date without touching the token. */
function updateOperator(op) {
	const s = get(session);
	if (!s || !op) return;
	setSession({ ...s, operator: op });
}

/** Another tab logged in or out: follow it. */
if (typeof window !== 'undefined') {
	window.addEventListener('storage', (e) => {
		if (e.key !== KEY) return;
		const next = load();
		const cur = get(session);
		if ((next?.token ?? null) !== (cur?.token ?? null)) session.set(next);
	});
}

/**
 * Call the Leaf API.
 * @param {string} path
 * @param {{ method?: string, body?: any, auth?: boolean, signal?: AbortSignal }} [opts]
 *   auth: send the token if there is one (default true)
 */
export async function api(path, { method = 'GET', body, auth = true, signal } = {}) {
	/** @type {Record<string, string>} */
	const headers = { Accept: 'application/json' };
	const s = auth ? get(session) : null;
	if (s?.token) headers.Authorization = `Bearer ${s.token}`;
	if (body !== undefined) headers['Content-Type'] = 'application/json';

	let res;
	try {
		res = await fetch(path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			cache: 'no-store',
			signal
		});
	} catch (e) {
		if (/** @type {any} */ (e)?.name === 'AbortError') throw e;
		throw new ApiError('Cannot reach the Leaf box. Check the Wi-Fi and try again.', {
			code: 'network',
			status: 0
		});
	}

	const text = await res.text();
	let data = null;
	if (text) {
		try {
			data = JSON.parse(text);
		} catch {
			data = null;
		}
	}
	if (res.ok) return data;

	const ra = res.headers.get('Retry-After');
	const retryAfter = ra !== null && /^\d+$/.test(ra.trim()) ? Number(ra) : null;
	const err = new ApiError(
		(data && typeof data.message === 'string' && data.message) ||
			`The box answered ${res.status} ${res.statusText}`.trim(),
		{ code: (data && data.error) || 'http_' + res.status, status: res.status, retryAfter, body: data }
	);
	// The token is no good any more: forget it (only if it is still the one we sent).
	if (res.status === 401 && s?.token && get(session)?.token === s.token) logout();
	throw err;
}

let initStarted = false;

/** Check the stored token once (GET /api/me); refresh the operator or drop the session. */
export async function init() {
	if (initStarted) return;
	initStarted = true;
	const s = get(session);
	if (!s) {
		checked.set(true);
		return;
	}
	try {
		const op = await api('/api/me');
		if (get(session)?.token === s.token) updateOperator(op);
	} catch {
		// 401 already dropped the session; a network error keeps it for now.
	} finally {
		checked.set(true);
	}
}

/** @param {any} s */
export const isAdmin = (s) => s?.operator?.role === 'admin';

/** Floor staff or admin: may run tournaments. @param {any} s */
export const isFloor = (s) => s?.operator?.role === 'admin' || s?.operator?.role === 'floor';

export const ROLE_LABELS = /** @type {Record<string, string>} */ ({
	admin: 'Admin',
	floor: 'Floor',
	viewer: 'Viewer'
});
