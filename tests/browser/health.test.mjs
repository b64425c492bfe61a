// The home page shows the box's live health, pushed over the WebSocket.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnLeaf, launchBrowser, screenshot, watchPageProblems } from './leaf.mjs';

const WAIT_MS = 15_000;

describe('home page health', { timeout: 180_000 }, () => {
	/** @type {Awaited<ReturnType<typeof spawnLeaf>> | undefined} */
	let leaf;
	/** @type {import('playwright-core').Browser | undefined} */
	let browser;

	before(async () => {
		leaf = await spawnLeaf();
		browser = await launchBrowser();
	});

	after(async () => {
		await browser?.close().catch(() => {});
		await leaf?.stop();
	});

	/**
	 * Open `/` in a fresh context and wait for a live, healthy box.
	 * @param {{ width: number, height: number }} viewport
	 * @param {Partial<import('playwright-core').BrowserContextOptions>} [extra]
	 */
	async function openHome(viewport, extra = {}) {
		const context = await browser.newContext({ viewport, ...extra });
		const page = await context.newPage();
		const problems = watchPageProblems(page);
		const res = await page.goto(leaf.url + '/', { waitUntil: 'domcontentloaded' });
		assert.equal(res?.status(), 200, 'GET / status');
		try {
			await page
				.locator('[data-testid=health-status][data-status=ok]')
				.waitFor({ state: 'visible', timeout: WAIT_MS });
			await page
				.locator('[data-testid=ws-state]', { hasText: /^\s*live\s*$/ })
				.waitFor({ state: 'visible', timeout: WAIT_MS });
		} catch (err) {
			await screenshot(page, `failed-${viewport.width}x${viewport.height}.png`).catch(() => {});
			err.message +=
				`\npage problems: ${JSON.stringify(problems)}` + `\n--- leaf output ---\n${leaf.output()}`;
			throw err;
		}
		return { context, page, problems };
	}

	it('shows live health at phone size (390×844)', async () => {
		const { context, page, problems } = await openHome(
			{ width: 390, height: 844 },
			{ isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
		);
		try {
			assert.equal(
				(await page.getByTestId('health-status').innerText()).trim(),
				'All systems go'
			);
			const streams = await page.locator('[data-testid=stream]').evaluateAll((els) =>
				els.map((e) => e.getAttribute('data-name'))
			);
			for (const name of ['AUDIT', 'STATE']) {
				assert.ok(streams.includes(name), `stream ${name} listed (got ${JSON.stringify(streams)})`);
				await page.locator(`[data-testid=stream][data-name="${name}"]`).waitFor({ state: 'visible' });
			}
			await page.getByTestId('version').waitFor({ state: 'visible' });
			assert.match(await page.getByTestId('uptime').innerText(), /^\d+h \d+m \d+s$/);
			assert.match(await page.getByTestId('ws-clients').innerText(), /^[1-9]/);
			assert.deepEqual(problems, []);
			await screenshot(page, 'home-phone.png');
		} finally {
			await context.close();
		}
	});

	it('shows live health at desktop size (1920×1080)', async () => {
		const { context, page, problems } = await openHome({ width: 1920, height: 1080 });
		try {
			await page.locator('[data-testid=stream][data-name="AUDIT"]').waitFor({ state: 'visible' });
			await page.locator('[data-testid=stream][data-name="STATE"]').waitFor({ state: 'visible' });
			assert.deepEqual(problems, []);
			await screenshot(page, 'home-desktop.png');
		} finally {
			await context.close();
		}
	});

	it('deep links render through the SPA fallback', async () => {
		const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
		try {
			const page = await context.newPage();
			const problems = watchPageProblems(page);
			const res = await page.goto(leaf.url + '/display/some/deep/link', {
				waitUntil: 'domcontentloaded'
			});
			assert.equal(res?.status(), 200, 'GET /display/... status');
			// A fresh box shows the first-boot setup code on displays; later, the lobby.
			await page
				.locator('[data-testid=display-lobby], [data-testid=display-setup]')
				.waitFor({ state: 'visible', timeout: WAIT_MS });
			assert.deepEqual(problems, []);
		} finally {
			await context.close();
		}
	});
});
