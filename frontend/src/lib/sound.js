// Short tones for the wall display, made with WebAudio oscillators (no sound files).
// Browsers only start audio after a user gesture unless the kiosk allows autoplay
// (Chromium: --autoplay-policy=no-user-gesture-required); `blocked` tells the page to
// offer an "enable sound" button, whose click calls `unlock()`.

import { writable } from 'svelte/store';

/** true while the browser keeps the audio context suspended */
export const blocked = writable(false);

/** @type {AudioContext | null} */
let ctx = null;

function context() {
	if (ctx) return ctx;
	const Ctor = window.AudioContext ?? /** @type {any} */ (window).webkitAudioContext;
	if (!Ctor) return null;
	ctx = new Ctor();
	blocked.set(ctx.state !== 'running');
	ctx.addEventListener('statechange', () => blocked.set(ctx?.state !== 'running'));
	return ctx;
}

/** Create the audio context early so the page knows whether it may play. */
export function prepare() {
	const c = context();
	if (c && c.state !== 'running') c.resume().catch(() => {});
}

/** Call from a click: lets the page play sounds from now on. */
export async function unlock() {
	const c = context();
	if (!c) return;
	try {
		await c.resume();
	} catch {
		/* still blocked */
	}
	blocked.set(c.state !== 'running');
	if (c.state === 'running') beep([880], 0.08);
}

/**
 * Play tones one after the other.
 * @param {number[]} freqs Hz
 * @param {number} [each] seconds per tone
 * @param {number} [volume] 0..1
 */
export function beep(freqs, each = 0.15, volume = 0.35) {
	const c = context();
	if (!c || c.state !== 'running') return;
	let t = c.currentTime + 0.02;
	for (const f of freqs) {
		const osc = c.createOscillator();
		const gain = c.createGain();
		osc.type = 'sine';
		osc.frequency.value = f;
		gain.gain.setValueAtTime(0, t);
		gain.gain.linearRampToValueAtTime(volume, t + 0.01);
		gain.gain.setValueAtTime(volume, t + each - 0.04);
		gain.gain.linearRampToValueAtTime(0, t + each);
		osc.connect(gain).connect(c.destination);
		osc.start(t);
		osc.stop(t + each + 0.02);
		t += each + 0.05;
	}
}

/** A new level (or a break) begins: a rising three-note chime. */
export const levelChange = () => beep([660, 880, 1100], 0.22, 0.4);

/** A warning before the level ends: one short beep; two at the last threshold. */
export const warning = (/** @type {boolean} */ last) => beep(last ? [988, 988] : [988], 0.12, 0.3);
