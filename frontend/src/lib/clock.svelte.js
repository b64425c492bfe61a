// A tournament's clock as this screen shows it. Every screen shows the same second:
// the server owns the clock and sends its state (`level_ends_at`, `server_time`) on
// every change and a tick every second (ten a second in a level's last ten); the
// time left is computed here from those timestamps and the offset between the
// server's clock and this device's, never counted down by decrementing. It is
// recomputed on every animation frame, and by a timer too, since background tabs
// get no frames.
//
//   const clock = new LiveClock(id);
//   onMount(() => clock.start());   // returns the stop function
//   clock.state         latest PublicState (null until known)
//   clock.remaining_ms  time left in the level (frozen while paused; 0 once over,
//                       until the server's next level arrives)
//   clock.elapsed_ms, clock.until_break_ms, clock.serverNow()
//   clock.accept(state) take a state from a command's answer (or a 409's `state`)
//   clock.refresh()     fetch the state over HTTP
//   clock.missing       true when the server says there is no such tournament

import { get } from 'svelte/store';
import { watchTournament, connection } from './live.js';
import { api } from './session.js';

const FALLBACK_MS = 250;
/** A tick about a newer version or level than our state: fetch the state if it has not come by then. */
const STALE_AFTER_MS = 1500;
/** Time left at 0 for this long with nothing new from the server: fetch the state. */
const STUCK_AFTER_MS = 2000;
const OFFSET_SAMPLES = 8;
/** While the socket is down, ask over HTTP this often. */
const POLL_OFFLINE_MS = 5000;
/** A sample this far from the estimate means a clock was set: start over. */
const OFFSET_JUMP_MS = 2000;

/** @param {any} level */
const durationMs = (level) => (level?.duration_secs ?? 0) * 1000;

export class LiveClock {
	/** @type {any} */
	state = $state.raw(null);
	remaining_ms = $state(0);
	elapsed_ms = $state(0);
	/** @type {number | null} */
	until_break_ms = $state(null);
	missing = $state(false);
	/** Quantised server time (100 ms), for displays of the time of day. */
	now = $state(0);

	/** @type {{ server_time: number, version: number, level: number, remaining_ms: number, level_ends_at: number | null, elapsed_ms: number, running: boolean } | null} */
	#timing = null;
	/** Server time minus local time, estimated from recent samples. */
	#offset = 0;
	/** @type {number[]} */
	#samples = [];
	/** @type {number | null} */
	#staleSince = null;
	/** @type {number | null} */
	#zeroSince = null;
	#lastRefresh = 0;
	#running = false;

	/** @param {string} id */
	constructor(id) {
		this.id = id;
	}

	/** Server time now (Unix ms), by this device's clock corrected by the offset. */
	serverNow() {
		return Date.now() + this.#offset;
	}

	/** @param {number} serverTime */
	#sample(serverTime) {
		if (typeof serverTime !== 'number') return;
		// server_time − local receive time = true offset − network delay: the largest
		// recent sample has the least delay in it.
		const s = serverTime - Date.now();
		if (this.#samples.length && Math.abs(s - this.#offset) > OFFSET_JUMP_MS) this.#samples = [];
		this.#samples.push(s);
		if (this.#samples.length > OFFSET_SAMPLES) this.#samples.shift();
		this.#offset = Math.max(...this.#samples);
	}

	/**
	 * Take a PublicState unless it is older than the one we have.
	 * @param {any} s
	 */
	accept(s) {
		if (!s || typeof s !== 'object' || !s.clock) return false;
		const cur = this.state;
		if (
			cur &&
			(s.version < cur.version || (s.version === cur.version && s.server_time < cur.server_time))
		) {
			return false;
		}
		this.#sample(s.server_time);
		this.missing = false;
		this.state = s;
		this.#timing = {
			server_time: s.server_time,
			version: s.version,
			level: s.clock.level,
			remaining_ms: s.clock.remaining_ms,
			level_ends_at: s.clock.level_ends_at,
			elapsed_ms: s.clock.elapsed_ms,
			running: s.clock.running
		};
		this.#staleSince = null;
		this.#zeroSince = null;
		this.frame();
		return true;
	}

	/** @param {any} t */
	#tick(t) {
		if (!t || typeof t.server_time !== 'number') return;
		this.#sample(t.server_time);
		const s = this.state;
		if (!s || t.version < s.version) return;
		if (t.version !== s.version || t.level !== s.clock.level) {
			// The server moved on (a command, or the next level); its state follows.
			this.#staleSince ??= Date.now();
			return;
		}
		if (!this.#timing || t.server_time >= this.#timing.server_time) {
			this.#timing = { ...t };
			if (t.remaining_ms > 0) this.#zeroSince = null;
		}
	}

	async refresh() {
		this.#lastRefresh = Date.now();
		try {
			this.accept(await api(`/api/tournaments/${encodeURIComponent(this.id)}`, { auth: false }));
		} catch (e) {
			if (/** @type {any} */ (e)?.status === 404) this.missing = true;
		}
	}

	/** Recompute what the screen shows. */
	frame() {
		const s = this.state;
		const t = this.#timing;
		if (!s || !t) return;
		const now = this.serverNow();
		this.now = Math.floor(now / 100) * 100;
		let remaining;
		let elapsed;
		if (!s.clock.started) {
			// Not started: the first level's full time.
			remaining = durationMs(s.level);
			elapsed = 0;
		} else if (t.running && typeof t.level_ends_at === 'number') {
			remaining = Math.max(0, t.level_ends_at - now);
			elapsed = t.elapsed_ms + Math.max(0, now - t.server_time);
		} else {
			remaining = Math.max(0, t.remaining_ms);
			elapsed = t.elapsed_ms;
		}
		this.remaining_ms = Math.round(remaining / 10) * 10;
		this.elapsed_ms = Math.floor(elapsed / 100) * 100;

		let untilBreak = s.clock.until_break_ms;
		if (typeof untilBreak === 'number') {
			if (!s.clock.started) untilBreak += durationMs(s.level) - s.clock.remaining_ms;
			else if (s.clock.running) untilBreak -= Math.max(0, now - s.server_time);
			this.until_break_ms = Math.max(0, untilBreak);
		} else {
			this.until_break_ms = null;
		}

		// Never stuck: if the server's word is late, ask for it.
		const wall = Date.now();
		if (t.running && s.clock.started && remaining <= 0) this.#zeroSince ??= wall;
		const stale =
			(this.#staleSince !== null && wall - this.#staleSince > STALE_AFTER_MS) ||
			(this.#zeroSince !== null && wall - this.#zeroSince > STUCK_AFTER_MS);
		if (stale && wall - this.#lastRefresh > STALE_AFTER_MS) this.refresh();
	}

	/** Follow the tournament live; returns the function that stops. */
	start() {
		if (this.#running) return () => {};
		this.#running = true;
		const stopWatch = watchTournament(this.id, (channel, data) => {
			if (channel === 'state') this.accept(data);
			else if (channel === 'tick') this.#tick(data);
		});
		if (!this.state) this.refresh();
		/** @type {number} */
		let raf = 0;
		const loop = () => {
			this.frame();
			raf = requestAnimationFrame(loop);
		};
		raf = requestAnimationFrame(loop);
		const timer = setInterval(() => this.frame(), FALLBACK_MS);
		const poll = setInterval(() => {
			if (get(connection) !== 'live') this.refresh();
		}, POLL_OFFLINE_MS);
		// A phone waking up: get the latest at once.
		const onVisible = () => {
			if (document.visibilityState === 'visible') this.refresh();
		};
		document.addEventListener('visibilitychange', onVisible);
		return () => {
			this.#running = false;
			cancelAnimationFrame(raf);
			clearInterval(timer);
			clearInterval(poll);
			document.removeEventListener('visibilitychange', onVisible);
			stopWatch();
		};
	}
}
