// Wall display options, from the query string:
//   ?theme=latte        light theme (Mocha, dark, by default — whatever the staff app chose)
//   ?warn=60,30,10      warning tones at these seconds left ("?warn=" for none)
//   ?sound=off          no sounds at all
//   ?rotate=15          the lobby shows each running tournament this many seconds

/** @param {URLSearchParams} q */
export function displayOptions(q) {
	const warnRaw = q.get('warn');
	const warn =
		warnRaw === null
			? [60, 30, 10]
			: warnRaw
					.split(',')
					.map((x) => Number(x.trim()))
					.filter((n) => Number.isFinite(n) && n > 0 && n <= 3600);
	const rotate = Number(q.get('rotate'));
	return {
		theme: q.get('theme') === 'latte' ? 'latte' : 'mocha',
		warn,
		soundOn: !['off', '0', 'false', 'no'].includes((q.get('sound') ?? '').toLowerCase()),
		rotateMs: Number.isFinite(rotate) && rotate >= 3 ? rotate * 1000 : 15_000
	};
}

/**
 * Show the display in `name` without touching the staff app's stored choice;
 * returns the function that puts the previous theme back.
 * @param {'mocha' | 'latte'} name
 */
export function applyDisplayTheme(name) {
	const root = document.documentElement;
	const before = root.getAttribute('data-theme');
	root.setAttribute('data-theme', name);
	return () => {
		if (before === null) root.removeAttribute('data-theme');
		else root.setAttribute('data-theme', before);
	};
}
