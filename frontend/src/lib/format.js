/** 3725 -> "1h 2m 5s" (hours keep counting past 24). */
export function formatUptime(secs) {
	if (typeof secs !== 'number' || !Number.isFinite(secs) || secs < 0) return '—';
	const t = Math.floor(secs);
	const h = Math.floor(t / 3600);
	const m = Math.floor((t % 3600) / 60);
	const s = t % 60;
	return `${h}h ${m}m ${s}s`;
}

/** 0.4321 -> "0.43 ms", 12.3 -> "12.3 ms", 250 -> "250 ms". */
export function formatMs(ms) {
	if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
	if (ms < 1) return `${ms.toFixed(2)} ms`;
	if (ms < 100) return `${ms.toFixed(1)} ms`;
	return `${Math.round(ms)} ms`;
}

/** Thousands separators, locale-independent ("12 345"). */
export function formatCount(n) {
	if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
	return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}
