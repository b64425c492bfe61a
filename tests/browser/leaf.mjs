// Helpers for Leaf browser tests (run with `node --test tests/browser/` from
// the repo root).
//
//   spawnLeaf()      start the real binary on a random port with a fresh data dir;
//                    the handle can wait for a log line (waitForLine) and read the
//                    first-boot setup code (setupCode)
//   launchBrowser()  headless Debian Chromium via playwright-core (never downloads a browser)
//   screenshot()     write a PNG to tests/browser/artifacts/

import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, access } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..');
export const ARTIFACTS_DIR = path.join(here, 'artifacts');

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const MAX_OUTPUT_LINES = 2000;

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
const LISTENING = /listening on (http:\/\/[^\s"'`,;)\]]+)/;

/** Processes still running, so they are not left behind if the runner exits. */
const running = new Set();
process.on('exit', () => {
	for (const proc of running) {
		// Graceful: let leaf take its managed children down with it.
		try {
			proc.kill('SIGTERM');
		} catch {
			/* gone */
		}
	}
});

function waitForExit(proc, ms) {
	if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(true);
	return new Promise((resolve) => {
		const timer = setTimeout(() => {
			proc.off('exit', onExit);
			resolve(false);
		}, ms);
		function onExit() {
			clearTimeout(timer);
			resolve(true);
		}
		proc.once('exit', onExit);
	});
}

/**
 * Start `leaf serve --listen 127.0.0.1:0 --data <fresh dir>` and wait until it
 * logs `listening on http://HOST:PORT`.
 *
 * Binary: env LEAF_BIN (relative paths are taken from the repo root), else
 * target/debug/leaf. Set LEAF_TEST_VERBOSE=1 to echo leaf's output.
 *
 * @param {{ args?: string[], env?: Record<string, string>, timeoutMs?: number }} [opts]
 * @returns {Promise<{ url: string, proc: import('node:child_process').ChildProcess,
 *   dataDir: string, output: () => string, stop: () => Promise<void>,
 *   waitForLine: (re: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>,
 *   setupCode: (timeoutMs?: number) => Promise<string> }>}
 */
export async function spawnLeaf(opts = {}) {
	const bin = path.resolve(REPO_ROOT, process.env.LEAF_BIN || 'target/debug/leaf');
	try {
		await access(bin, fsc.X_OK);
	} catch {
		throw new Error(
			`Leaf binary not found or not executable: ${bin}\n` +
				'Build it first (cargo build) or point LEAF_BIN at it.'
		);
	}

	const dataDir = await mkdtemp(path.join(tmpdir(), 'leaf-test-'));
	const args = ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, ...(opts.args ?? [])];
	const proc = spawn(bin, args, {
		cwd: REPO_ROOT,
		env: { ...process.env, RUST_LOG: 'info', NO_COLOR: '1', ...(opts.env ?? {}) },
		stdio: ['ignore', 'pipe', 'pipe']
	});
	running.add(proc);
	proc.once('exit', () => running.delete(proc));

	/** @type {string[]} */
	const lines = [];
	const output = () => lines.join('\n');
	/** @type {Set<(line: string) => void>} */
	const lineWaiters = new Set();
	const verbose = !!process.env.LEAF_TEST_VERBOSE;

	let stopped = false;
	const stop = async () => {
		if (stopped) return;
		stopped = true;
		if (proc.exitCode === null && proc.signalCode === null) {
			proc.kill('SIGTERM');
			if (!(await waitForExit(proc, STOP_GRACE_MS))) {
				proc.kill('SIGKILL');
				await waitForExit(proc, STOP_GRACE_MS);
			}
		}
		running.delete(proc);
		await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
	};

	const url = await new Promise((resolve, reject) => {
		let settled = false;
		const finish = (err, value) => {
			if (settled) return;
			settled = true;
			clearTimeout(timer);
			if (err) reject(err);
			else resolve(value);
		};
		const fail = (why) =>
			finish(
				new Error(
					`leaf did not report "listening on http://…": ${why}\n` +
						`command: ${bin} ${args.join(' ')}\n` +
						`--- output ---\n${output() || '(no output)'}\n--------------`
				)
			);
		const timer = setTimeout(
			() => fail(`timed out after ${(opts.timeoutMs ?? READY_TIMEOUT_MS) / 1000} s`),
			opts.timeoutMs ?? READY_TIMEOUT_MS
		);

		const onLine = (stream) => (raw) => {
			const line = raw.replace(ANSI, '');
			lines.push(line);
			if (lines.length > MAX_OUTPUT_LINES) lines.splice(0, lines.length - MAX_OUTPUT_LINES);
			if (verbose) process.stderr.write(`[leaf ${stream}] ${line}\n`);
			for (const waiter of lineWaiters) waiter(line);
			const m = !settled && LISTENING.exec(line);
			if (m) finish(null, m[1].replace(/[.\/]+$/, ''));
		};
		createInterface({ input: proc.stdout }).on('line', onLine('out'));
		createInterface({ input: proc.stderr }).on('line', onLine('err'));
		proc.once('error', (e) => fail(`spawn failed: ${e.message}`));
		proc.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
	}).catch(async (err) => {
		await stop();
		throw err;
	});

	/**
	 * The first output line (already seen or still to come) matching `re`.
	 * @param {RegExp} re
	 * @param {number} [timeoutMs]
	 */
	const waitForLine = (re, timeoutMs = 10_000) =>
		new Promise((resolve, reject) => {
			for (const line of lines) {
				const m = re.exec(line);
				if (m) return resolve(m);
			}
			const timer = setTimeout(() => {
				lineWaiters.delete(onLine);
				reject(new Error(`no output line matched ${re} within ${timeoutMs} ms\n--- output ---\n${output()}`));
			}, timeoutMs);
			/** @param {string} line */
			function onLine(line) {
				const m = re.exec(line);
				if (!m) return;
				clearTimeout(timer);
				lineWaiters.delete(onLine);
				resolve(m);
			}
			lineWaiters.add(onLine);
		});

	/** The one-time setup code leaf logs on first boot (`Setup code: ABCD-EFGH`). */
	const setupCode = async (timeoutMs) =>
		(await waitForLine(/Setup code: ([A-Z0-9]{4}-[A-Z0-9]{4})/, timeoutMs))[1];

	return { url, proc, dataDir, output, stop, waitForLine, setupCode };
}

export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync'
];

/**
 * Launch Debian's Chromium (env CHROMIUM_BIN overrides /usr/bin/chromium).
 * playwright's plain launch() uses a fresh temporary profile and removes it on close.
 * @param {import('playwright-core').LaunchOptions} [opts]
 */
export async function launchBrowser(opts = {}) {
	return chromium.launch({
		executablePath: process.env.CHROMIUM_BIN || '/usr/bin/chromium',
		headless: true,
		args: CHROMIUM_ARGS,
		timeout: 60_000,
		...opts
	});
}

/**
 * Full-page PNG to tests/browser/artifacts/<name>(.png). `{ fullPage: false }`
 * keeps to the viewport: what a phone shows, with the bottom tab bar where it
 * really is (full-page captures draw sticky/fixed bars at the viewport's edge).
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @param {{ fullPage?: boolean }} [opts]
 */
export async function screenshot(page, name, { fullPage = true } = {}) {
	await mkdir(ARTIFACTS_DIR, { recursive: true });
	const file = path.join(ARTIFACTS_DIR, name.endsWith('.png') ? name : `${name}.png`);
	await page.screenshot({ path: file, fullPage });
	return file;
}

/**
 * Record page errors and CSP violations so a test can assert there were none.
 * @param {import('playwright-core').Page} page
 */
export function watchPageProblems(page) {
	/** @type {string[]} */
	const problems = [];
	page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
	page.on('console', (msg) => {
		const text = msg.text();
		if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(text)) {
			problems.push(`csp: ${text}`);
		}
	});
	return problems;
}
