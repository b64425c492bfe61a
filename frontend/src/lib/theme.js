// Theme selection: Catppuccin Mocha (dark, default) or Latte (light), stored in
// localStorage and applied as `data-theme` on <html>. static/theme.js applies
// the stored choice before first paint.
import { writable } from 'svelte/store';

const KEY = 'leaf-theme';
export const THEMES = /** @type {const} */ (['mocha', 'latte']);

function initial() {
	if (typeof document === 'undefined') return 'mocha';
	const attr = document.documentElement.getAttribute('data-theme');
	return attr === 'latte' ? 'latte' : 'mocha';
}

export const theme = writable(initial());

/** @param {'mocha' | 'latte'} name */
export function setTheme(name) {
	const t = name === 'latte' ? 'latte' : 'mocha';
	theme.set(t);
	document.documentElement.setAttribute('data-theme', t);
	const meta = document.querySelector('meta[name="theme-color"]');
	if (meta) meta.setAttribute('content', t === 'latte' ? '#eff1f5' : '#1e1e2e');
	try {
		localStorage.setItem(KEY, t);
	} catch {
		/* storage unavailable */
	}
}

export function toggleTheme() {
	setTheme(initial() === 'latte' ? 'mocha' : 'latte');
}
