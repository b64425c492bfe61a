// Tournament helpers shared by the wall display and the staff screens: clock and
// money formatting, level descriptions, commands, and the undo list's wording.

import { api } from './session.js';
import { formatCount } from './format.js';
import { sentence } from './util.js';

/** @param {number} n */
const pad2 = (n) => String(n).padStart(2, '0');

/**
 * Time left on a countdown: whole seconds rounded up (a level shows 0:00 only when it
 * is over), "mm:ss", or "h:mm:ss" from one hour.
 * @param {number | null | undefined} ms
 */
export function formatClock(ms) {
	if (typeof ms !== 'number' || !Number.isFinite(ms)) return '--:--';
	const t = Math.max(0, Math.ceil(ms / 1000));
	const h = Math.floor(t / 3600);
	const m = Math.floor((t % 3600) / 60);
	const s = t % 60;
	return h > 0 ? `${h}:${pad2(m)}:${pad2(s)}` : `${pad2(m)}:${pad2(s)}`;
}

/**
 * Time gone by (rounded down): "m:ss", or "h:mm:ss" from one hour.
 * @param {number | null | undefined} ms
 */
export function formatElapsed(ms) {
	if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
	const t = Math.max(0, Math.floor(ms / 1000));
	const h = Math.floor(t / 3600);
	const m = Math.floor((t % 3600) / 60);
	const s = t % 60;
	return h > 0 ? `${h}:${pad2(m)}:${pad2(s)}` : `${m}:${pad2(s)}`;
}

/** 600 → "10 min", 90 → "1.5 min", 30 → "30 s". */
export function formatMinutes(secs) {
	if (secs < 60) return `${secs} s`;
	const m = secs / 60;
	return `${Number.isInteger(m) ? m : m.toFixed(1)} min`;
}

/** Chips, blinds, stacks: "12 500". */
export const chips = (/** @type {number} */ n) => formatCount(n);

/** Integer cents → "1 234" or "1 234.50" (no currency: the venue knows its own). */
export function formatMoney(cents) {
	if (typeof cents !== 'number' || !Number.isFinite(cents)) return '—';
	const neg = cents < 0;
	const abs = Math.abs(Math.trunc(cents));
	const whole = formatCount(Math.floor(abs / 100));
	const rest = abs % 100;
	return `${neg ? '−' : ''}${whole}${rest ? '.' + pad2(rest) : ''}`;
}

/** @param {any} level */
export const isBreak = (level) => level?.kind === 'break';

/** "150 / 300" @param {any} level */
export function blindsText(level) {
	if (!level || isBreak(level)) return '';
	return `${chips(level.small_blind)} / ${chips(level.big_blind)}`;
}

/** "BB ante 300", "Ante 25" or "" @param {any} level */
export function anteText(level) {
	if (!level || isBreak(level) || !level.ante) return '';
	return `${level.big_blind_ante ? 'BB ante' : 'Ante'} ${chips(level.ante)}`;
}

/** "150 / 300 · BB ante 300 · Razz" or "Break · 10 min" @param {any} level */
export function levelSummary(level) {
	if (!level) return '';
	if (isBreak(level)) return `Break · ${formatMinutes(level.duration_secs)}`;
	return [blindsText(level), anteText(level), level.game].filter(Boolean).join(' · ');
}

/** "Colour up: 25 chips", "Colour up: 500 and 1 000 chips" @param {number[]} list */
export function chipUpText(list) {
	if (!Array.isArray(list) || list.length === 0) return '';
	const names = list.map(chips);
	const joined = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
	return `Colour up: ${joined} chips`;
}

/**
 * Round numbers for a structure's levels (null for breaks), as the server counts them.
 * @param {any[]} levels
 */
export function roundNumbers(levels) {
	let n = 0;
	return levels.map((l) => (isBreak(l) ? null : ++n));
}

export const STATUS_LABELS = /** @type {Record<string, string>} */ ({
	created: 'Not started',
	running: 'Running',
	finished: 'Finished',
	archived: 'Archived'
});

/**
 * Send a clock command with the version the screen shows.
 * Resolves to the new PublicState; rejects with the ApiError (409: `err.body.state`
 * holds the fresh state).
 * @param {string} id
 * @param {Record<string, unknown>} command  e.g. {type: 'pause'}
 * @param {number} expectedVersion
 */
export function sendCommand(id, command, expectedVersion) {
	return api(`/api/tournaments/${encodeURIComponent(id)}/commands`, {
		method: 'POST',
		body: { command, expected_version: expectedVersion }
	});
}

/**
 * The undo list's wording for an event, or null for events that are not shown.
 * @param {{ kind: any }} event
 * @param {any[] | null} levels the tournament's structure, when known
 */
export function describeEvent(event, levels) {
	const k = event.kind ?? {};
	switch (k.type) {
		case 'clock_started':
			return 'Clock started';
		case 'clock_paused':
			return 'Paused';
		case 'clock_resumed':
			return 'Resumed';
		case 'level_set': {
			const level = levels?.[k.level];
			if (!level) return `Level ${k.level + 1}`;
			if (isBreak(level)) return `Level ${k.level + 1}: break`;
			const round = roundNumbers(levels)[k.level];
			return `Level ${k.level + 1}: round ${round}, ${blindsText(level)}`;
		}
		case 'time_adjusted': {
			const s = Math.round((k.delta_ms ?? 0) / 1000);
			return `${s >= 0 ? '+' : '−'}${Math.abs(s)} s`;
		}
		case 'time_check_required':
			return 'Clock stopped: check the time';
		case 'time_check_cleared':
			return 'Time check cleared';
		case 'finished':
			return 'Finished';
		case 'archived':
			return 'Archived';
		default:
			return null;
	}
}

/** Events that may be undone (the server refuses the others). @param {{ kind: any }} event */
export const undoable = (event) =>
	!['created', 'undone', 'time_check_required'].includes(event.kind?.type);

/** An ApiError's message as a sentence. @param {any} e */
export const errorText = (e) => sentence(e?.message ?? String(e));
