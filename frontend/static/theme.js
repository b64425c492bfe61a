// Applies the saved theme before first paint (external file: the CSP forbids
// inline scripts). Kept in sync with src/lib/theme.js.
(function () {
	try {
		var t = localStorage.getItem('leaf-theme');
		if (t === 'latte' || t === 'mocha') document.documentElement.setAttribute('data-theme', t);
	} catch (e) {
		/* storage unavailable: keep the default (mocha) */
	}
})();
