/** Capitalise the first letter of a server message ("wrong name or PIN" → "Wrong name or PIN"). */
export function sentence(text) {
	const s = String(text ?? '').trim();
	return s ? s[0].toUpperCase() + s.slice(1) : s;
}

/**
 * A throttling message without its own "try again in N s" (the page shows a live
 * countdown instead): "too many failed attempts: try again in 8 s" → "Too many failed attempts."
 */
export function withoutWait(text) {
	const s = sentence(text).replace(/\s*[:;,.–—-]?\s*try again in \d+\s*(s|sec\w*|seconds?)?\.?\s*$/i, '');
	return s ? s.replace(/[.!]?$/, '.') : s;
}

/** 75 → "1:15", 9 → "9 s". */
export function formatWait(secs) {
	const t = Math.max(0, Math.ceil(secs));
	if (t < 60) return `${t} s`;
	const m = Math.floor(t / 60);
	const s = t % 60;
	return `${m}:${String(s).padStart(2, '0')}`;
}

/** A same-origin path to go to after login, from `?next=`; anything else → "/". */
export function safeNext(value) {
	if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//')) return '/';
	if (value.startsWith('/login') || value.startsWith('/setup')) return '/';
	return value;
}
