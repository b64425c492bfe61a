// Live connection to the Leaf box over its WebSocket (`/ws`).
//
// One shared socket per page. It reconnects forever with backoff
// (0.5 s, doubling, capped at 5 s), asks for health pushes after every
// connect (`watch_health`) and re-sends every tournament subscription after a
// reconnect, so callers subscribe once and forget about the network.
//
// Staff: when a session exists (see session.js), every (re)connect first trades
// the token for a single-use ticket (POST /api/ws-ticket) and opens
// `/ws?ticket=…`; without a session the socket is public. Logging in or out
// reconnects at once. A ticket refused at the upgrade (the socket closes before
// it opens) is simply replaced by a new one on the next attempt; after a few
// such failures in a row one public connection is made instead.
//
// Everything is exposed as Svelte stores, which work with `$store` in
// components (runes mode included):
//   connection  'idle' | 'connecting' | 'live' | 'reconnecting'
//   health      latest Health object pushed by the server, or null
//   hello       the server's hello ({version, server_time, clock_offset_ms, role}) or null;
//               role is the staff role this connection carries, null when public
//   lastError   last {error, message} frame from the server, or null
// and functions:
//   start()                 open the socket (idempotent; called by the root layout)
//   restart()               drop the socket and connect again now (e.g. after login/logout)
//   subscribe(id)           subscribe to a tournament; returns an unsubscribe fn (ref-counted)
//   tournament(id)          readable store {channel: data, ...} of the latest publications;
//                           subscribing to the store subscribes to the tournament
//   watchTournament(id, fn) subscribe and call fn(channel, data) for each of its publications
//                           ('state' = PublicState, 'tick' = clock position); returns a stop fn
//   onMessage(fn)           raw listener for every parsed server frame; returns a remover
//   send(obj)               send a frame if the socket is open (returns true if sent)

import { readable, writable, get } from 'svelte/store';
import { session, api } from './session.js';

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 5000;
// The server pushes health about every second once we watch it; if nothing at
// all arrives for this long the socket is presumed dead (e.g. a phone that
// slept, a pulled cable) and is replaced.
const STALE_MS = 10000;
// Staff sockets refused at the upgrade in a row before one public connection is made.
const MAX_STAFF_FAILURES = 3;

export const connection = writable('idle');
export const health = writable(null);
export const hello = writable(null);
export const lastError = writable(null);

/** @type {WebSocket | null} */
let ws = null;
let started = false;
let backoff = BACKOFF_MIN_MS;
/** @type {ReturnType<typeof setTimeout> | null} */
let retryTimer = null;
/** @type {ReturnType<typeof setTimeout> | null} */
let staleTimer = null;
/** Bumped by restart(): answers to older ticket requests are ignored. */
let generation = 0;
/** A ticket request for the current generation is in flight. */
let fetchingTicket = false;
let staffFailures = 0;

/** tournament id -> reference count */
const subscriptions = new Map();
/** tournament id -> writable({channel: data}) */
const tournamentStores = new Map();
/** @type {Set<(msg: any) => void>} */
const listeners = new Set();

/** @param {string | null} [ticket] */
function socketUrl(ticket) {
	const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
	const base = `${scheme}://${location.host}/ws`;
	return ticket ? `${base}?ticket=${encodeURIComponent(ticket)}` : base;
}

/** Send a frame if the socket is open. */
export function send(obj) {
	if (ws && ws.readyState === WebSocket.OPEN) {
		ws.send(JSON.stringify(obj));
		return true;
	}
	return false;
}

function armStaleTimer() {
	if (staleTimer) clearTimeout(staleTimer);
	staleTimer = setTimeout(() => {
		staleTimer = null;
		if (ws) {
			const dead = ws;
			drop(dead);
			scheduleReconnect();
		}
	}, STALE_MS);
}

/** Detach and close a socket without triggering its handlers. */
function drop(sock) {
	sock.onopen = sock.onmessage = sock.onclose = sock.onerror = null;
	try {
		sock.close();
	} catch {
		/* already closed */
	}
	if (ws === sock) ws = null;
}

function scheduleReconnect() {
	if (staleTimer) {
		clearTimeout(staleTimer);
		staleTimer = null;
	}
	connection.set('reconnecting');
	if (retryTimer) return;
	const delay = backoff;
	backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
	retryTimer = setTimeout(() => {
		retryTimer = null;
		connect();
	}, delay);
}

function handleMessage(ev) {
	let msg;
	try {
		msg = JSON.parse(ev.data);
	} catch {
		return;
	}
	if (!msg || typeof msg !== 'object') return;
	armStaleTimer();

	switch (msg.type) {
		case 'hello':
			hello.set({
				version: msg.version,
				server_time: msg.server_time,
				clock_offset_ms: typeof msg.server_time === 'number' ? msg.server_time - Date.now() : 0,
				role: msg.role ?? null
			});
			break;
		case 'health':
			health.set(msg.health ?? null);
			break;
		case 'publication': {
			const store = tournamentStores.get(msg.tournament);
			if (store) store.update((s) => ({ ...s, [msg.channel]: msg.data }));
			break;
		}
		case 'error':
			lastError.set({ error: msg.error, message: msg.message });
			break;
		default:
			break;
	}
	for (const fn of listeners) {
		try {
			fn(msg);
		} catch (e) {
			console.error('live listener failed', e);
		}
	}
}

function connect() {
	if (ws || fetchingTicket) return;
	if (get(connection) !== 'reconnecting') connection.set('connecting');
	if (!get(session) || staffFailures >= MAX_STAFF_FAILURES) {
		staffFailures = 0;
		open(null);
		return;
	}
	const gen = generation;
	fetchingTicket = true;
	// A box that does not answer must not leave us waiting forever.
	const signal = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(10_000) : undefined;
	api('/api/ws-ticket', { method: 'POST', signal }).then(
		(t) => {
			if (gen !== generation) return;
			fetchingTicket = false;
			open(typeof t?.ticket === 'string' ? t.ticket : null);
		},
		(err) => {
			if (gen !== generation) return;
			fetchingTicket = false;
			// 401: the session was dropped (restart() normally got here first);
			// anything else (box unreachable, restarting): try again later.
			if (err?.status === 401 || !get(session)) open(null);
			else scheduleReconnect();
		}
	);
}

/** @param {string | null} ticket */
function open(ticket) {
	let sock;
	try {
		sock = new WebSocket(socketUrl(ticket));
	} catch {
		scheduleReconnect();
		return;
	}
	ws = sock;
	let opened = false;
	sock.onopen = () => {
		opened = true;
		if (ticket) staffFailures = 0;
		backoff = BACKOFF_MIN_MS;
		connection.set('live');
		send({ type: 'watch_health' });
		for (const id of subscriptions.keys()) send({ type: 'subscribe', tournament: id });
		armStaleTimer();
	};
	sock.onmessage = handleMessage;
	sock.onclose = () => {
		if (ws === sock) ws = null;
		// Closed before it opened with a ticket: most likely refused (401).
		if (ticket && !opened) staffFailures += 1;
		scheduleReconnect();
	};
	sock.onerror = () => {
		// onclose follows; nothing else to do.
	};
}

/** Reconnect right away (skipping the backoff wait) when it is likely to help. */
function reconnectNow() {
	if (ws || !started) return;
	if (retryTimer) {
		clearTimeout(retryTimer);
		retryTimer = null;
	}
	backoff = BACKOFF_MIN_MS;
	connect();
}

/** Drop the socket (and any pending ticket request) and connect again now. */
export function restart() {
	if (!started) return;
	generation += 1;
	fetchingTicket = false;
	staffFailures = 0;
	if (retryTimer) {
		clearTimeout(retryTimer);
		retryTimer = null;
	}
	if (staleTimer) {
		clearTimeout(staleTimer);
		staleTimer = null;
	}
	if (ws) drop(ws);
	hello.set(null);
	backoff = BACKOFF_MIN_MS;
	connection.set('connecting');
	connect();
}

/** Open the shared socket (idempotent). */
export function start() {
	if (started || typeof window === 'undefined') return;
	started = true;
	// Log in / log out (or a dropped token): reconnect with the new identity.
	let token = get(session)?.token ?? null;
	session.subscribe((s) => {
		const next = s?.token ?? null;
		if (next === token) return;
		token = next;
		restart();
	});
	window.addEventListener('online', reconnectNow);
	document.addEventListener('visibilitychange', () => {
		if (document.visibilityState === 'visible') reconnectNow();
	});
	connect();
}

/**
 * Subscribe to a tournament's publications. Re-sent automatically after every
 * reconnect. Reference-counted: returns a function that drops this caller's
 * interest; the server is told `unsubscribe` when nobody is left.
 * @param {string} tournamentId
 */
export function subscribe(tournamentId) {
	start();
	const n = subscriptions.get(tournamentId) ?? 0;
	subscriptions.set(tournamentId, n + 1);
	if (n === 0) send({ type: 'subscribe', tournament: tournamentId });
	let done = false;
	return () => {
		if (done) return;
		done = true;
		const left = (subscriptions.get(tournamentId) ?? 1) - 1;
		if (left > 0) {
			subscriptions.set(tournamentId, left);
		} else {
			subscriptions.delete(tournamentId);
			send({ type: 'unsubscribe', tournament: tournamentId });
		}
	};
}

/**
 * A readable store holding the latest publication per channel for a
 * tournament, e.g. `{ state: {...} }`. Subscribing to the store subscribes to
 * the tournament; the last store subscriber leaving unsubscribes.
 * @param {string} tournamentId
 */
export function tournament(tournamentId) {
	let inner = tournamentStores.get(tournamentId);
	if (!inner) {
		inner = writable({});
		tournamentStores.set(tournamentId, inner);
	}
	const src = inner;
	return readable({}, (set) => {
		const stopInner = src.subscribe(set);
		const stopRemote = subscribe(tournamentId);
		return () => {
			stopRemote();
			stopInner();
		};
	});
}

/**
 * Listen to every parsed server frame.
 * @param {(msg: any) => void} fn
 */
export function onMessage(fn) {
	listeners.add(fn);
	return () => listeners.delete(fn);
}

/**
 * Subscribe to a tournament and get each publication as it arrives:
 * `fn('state', PublicState)` at once after subscribing and on every change,
 * `fn('tick', {server_time, version, level, remaining_ms, level_ends_at, elapsed_ms, running})`
 * while the clock runs. Returns a function that stops both.
 * @param {string} tournamentId
 * @param {(channel: string, data: any) => void} fn
 */
export function watchTournament(tournamentId, fn) {
	const stopListening = onMessage((msg) => {
		if (msg.type === 'publication' && msg.tournament === tournamentId) fn(msg.channel, msg.data);
	});
	const stopRemote = subscribe(tournamentId);
	return () => {
		stopRemote();
		stopListening();
	};
}
