import { readFileSync } from 'node:fs';
import adapter from '@sveltejs/adapter-static';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** @type {import('@sveltejs/kit').Config} */
const config = {
	kit: {
		adapter: adapter({
			pages: 'build',
			assets: 'build',
			fallback: 'index.html',
			precompress: false,
			strict: true
		}),
		// Deterministic builds: by default the version is a timestamp, which
		// would change SvelteKit's inline bootstrap script (and so its CSP
		// hash) on every build even when nothing else changed.
		version: {
			name: process.env.LEAF_FRONTEND_VERSION || pkg.version
		}
	}
};

export default config;
