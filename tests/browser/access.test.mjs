// Staff access in the browser: first-boot setup (kiosk code + phone form), login
// with the PIN pad, operators, roles, logout, and the setup code on displays.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnLeaf, launchBrowser, screenshot, watchPageProblems } from './leaf.mjs';

const WAIT_MS = 15_000;
const PHONE = {
	viewport: { width: 390, height: 844 },
	isMobile: true,
	hasTouch: true,
	deviceScaleFactor: 2
};

describe('staff access', { timeout: 240_000 }, () => {
	/** @type {Awaited<ReturnType<typeof spawnLeaf>> | undefined} */
	let leaf;
	/** @type {import('playwright-core').Browser | undefined} */
	let browser;
	/** @type {string} */
	let code;

	before(async () => {
		leaf = await spawnLeaf();
		code = await leaf.setupCode();
		assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
		browser = await launchBrowser();
	});

	after(async () => {
		await browser?.close().catch(() => {});
		await leaf?.stop();
	});

	/**
	 * Run `fn` on a fresh page; on failure keep a screenshot and add the page's
	 * problems and leaf's output to the error.
	 * @param {string} name
	 * @param {import('playwright-core').BrowserContextOptions} options
	 * @param {(page: import('playwright-core').Page, problems: string[], sockets: string[]) => Promise<void>} fn
	 */
	async function withPage(name, options, fn) {
		const context = await browser.newContext(options);
		const page = await context.newPage();
		page.setDefaultTimeout(WAIT_MS);
		const problems = watchPageProblems(page);
		/** @type {string[]} WebSocket URLs opened, in order */
		const sockets = [];
		page.on('websocket', (ws) => sockets.push(ws.url()));
		try {
			await fn(page, problems, sockets);
			assert.deepEqual(problems, [], 'no page errors or CSP violations');
		} catch (err) {
			await screenshot(page, `failed-${name}.png`).catch(() => {});
			err.message +=
				`\npage problems: ${JSON.stringify(problems)}` + `\n--- leaf output ---\n${leaf.output()}`;
			throw err;
		} finally {
			await context.close();
		}
	}

	/**
	 * Tap a PIN on the pad, digit by digit.
	 * @param {import('playwright-core').Page} page
	 * @param {string} pin
	 */
	async function tapPin(page, pin) {
		const dots = page.getByTestId('pin-dots');
		const had = Number(await dots.getAttribute('data-length'));
		for (const d of pin) await page.getByTestId(`pin-${d}`).tap();
		await page.locator(`[data-testid=pin-dots][data-length="${had + pin.length}"]`).waitFor();
	}

	/**
	 * Poll `check` until it is true.
	 * @param {() => boolean} check
	 * @param {() => string} what
	 */
	async function until(check, what) {
		const end = Date.now() + WAIT_MS;
		while (!check()) {
			if (Date.now() > end) throw new Error(`timed out waiting for ${what()}`);
			await new Promise((r) => setTimeout(r, 50));
		}
	}

	/** @param {import('playwright-core').Page} page */
	async function waitLive(page) {
		await page.locator('[data-testid=ws-state][data-state=live]').waitFor();
	}

	/**
	 * @param {import('playwright-core').Page} page
	 * @param {string} name
	 * @param {string} pin
	 */
	async function logIn(page, name, pin) {
		await page.getByTestId(`operator-${name}`).tap();
		await tapPin(page, pin);
		await page.getByTestId('pin-ok').tap();
		await page.locator(`[data-testid=whoami][data-name="${name}"]`).waitFor();
	}

	/** @param {import('playwright-core').Page} page */
	async function logOut(page) {
		await page.getByTestId('tab-account').tap();
		await page.getByTestId('logout').tap();
		await page.waitForURL((u) => u.pathname === '/login');
		await page.getByTestId('tab-login').waitFor();
		assert.equal(await page.getByTestId('whoami').count(), 0, 'no one shown as logged in');
	}

	it('shows the setup code full-screen on the display of a fresh box (1920×1080)', async () => {
		await withPage('display-setup', { viewport: { width: 1920, height: 1080 } }, async (page) => {
			const res = await page.goto(leaf.url + '/display', { waitUntil: 'domcontentloaded' });
			assert.equal(res?.status(), 200);
			await page.getByTestId('display-setup').waitFor();
			assert.equal((await page.getByTestId('setup-code').innerText()).trim(), code);
			const qr = page.locator('[data-testid=setup-qr] svg');
			await qr.waitFor();
			const box = await qr.boundingBox();
			assert.ok(box && box.width >= 300, `QR large enough to scan across a room (${box?.width}px)`);
			const codeBox = await page.getByTestId('setup-code').boundingBox();
			assert.ok(codeBox && codeBox.height >= 80, `code readable across a room (${codeBox?.height}px)`);
			await screenshot(page, 'display-setup.png');
		});
	});

	it('sets up the first admin, logs in and out, adds an operator (phone, 390×844)', async () => {
		await withPage('access-phone', PHONE, async (page, _problems, sockets) => {
			// Nobody can log in yet: the login screen points at setup.
			await page.goto(leaf.url + '/login', { waitUntil: 'domcontentloaded' });
			await page.getByTestId('goto-setup').waitFor();

			// The kiosk view (the browser is on loopback): code and QR.
			await page.goto(leaf.url + '/setup', { waitUntil: 'domcontentloaded' });
			await page.getByTestId('setup-kiosk').waitFor();
			assert.equal((await page.getByTestId('setup-code').innerText()).trim(), code);
			await page.locator('[data-testid=setup-qr] svg').waitFor();
			await screenshot(page, 'setup-kiosk.png');

			// The phone form, as opened from the QR: the code comes in the fragment,
			// which is then removed from the address bar.
			await page.goto('about:blank');
			await page.goto(`${leaf.url}/setup#code=${code}`, { waitUntil: 'domcontentloaded' });
			const codeInput = page.getByTestId('setup-code-input');
			await codeInput.waitFor();
			assert.equal(await codeInput.inputValue(), code);
			await page.waitForFunction(() => location.hash === '');
			await page.getByTestId('setup-name').fill('Alice');
			await page.getByTestId('setup-next').tap();
			await page.getByTestId('setup-pin').waitFor();
			// Admins need 6 digits: OK stays off with 4.
			await tapPin(page, '2468');
			assert.equal(await page.getByTestId('pin-ok').isDisabled(), true);
			await tapPin(page, '10');
			await page.getByTestId('pin-ok').tap();
			await page.getByTestId('pin-prompt').filter({ hasText: 'again' }).waitFor();
			await tapPin(page, '246810');
			await page.getByTestId('pin-ok').tap();

			// Home, logged in as the admin, with a staff WebSocket.
			await page.waitForURL((u) => u.pathname === '/');
			await page.locator('[data-testid=whoami][data-name=Alice][data-role=admin]').waitFor();
			await page.locator('[data-testid=health-status][data-status=ok]').waitFor();
			await waitLive(page);
			await page.getByTestId('tab-operators').waitFor();
			assert.ok(
				sockets.some((u) => /\/ws\?ticket=[^&]+/.test(u)),
				`staff socket opened with a ticket (${JSON.stringify(sockets)})`
			);
			await screenshot(page, 'setup-done.png', { fullPage: false });

			await page.getByTestId('tab-account').tap();
			assert.equal((await page.getByTestId('account-name').innerText()).trim(), 'Alice');

			// Log out: the socket goes public again.
			const before = sockets.length;
			await logOut(page);
			await until(
				() => sockets.slice(before).some((u) => /\/ws$/.test(u)),
				() => `a public socket after logout (${JSON.stringify(sockets.slice(before))})`
			);
			await waitLive(page);
			assert.equal(await page.getByTestId('tab-operators').count(), 0);

			// Log in again: names, PIN pad, a wrong PIN first.
			await page.getByTestId('operator-Alice').waitFor();
			await screenshot(page, 'login-names.png');
			await page.getByTestId('operator-Alice').tap();
			await tapPin(page, '135799');
			await screenshot(page, 'login-pin.png');
			await page.getByTestId('pin-ok').tap();
			const error = page.getByTestId('login-error');
			await error.waitFor();
			assert.match(await error.innerText(), /wrong name or PIN/i);
			await page.locator('[data-testid=pin-dots][data-length="0"]').waitFor();
			await screenshot(page, 'login-wrong-pin.png');
			// The right one, with the keyboard this time.
			await page.keyboard.type('246810');
			await page.locator('[data-testid=pin-dots][data-length="6"]').waitFor();
			await page.keyboard.press('Enter');
			await page.locator('[data-testid=whoami][data-name=Alice]').waitFor();
			await page.waitForURL((u) => u.pathname === '/');

			// Add Bob as floor.
			await page.getByTestId('tab-operators').tap();
			await page.waitForURL((u) => u.pathname === '/operators');
			await page.getByTestId('op-Alice').waitFor();
			await page.getByTestId('add-operator').tap();
			await page.getByTestId('new-operator-name').fill('Bob');
			await page.getByTestId('new-role-floor').check();
			await page.getByTestId('new-operator-next').tap();
			await tapPin(page, '1357');
			await page.getByTestId('pin-ok').tap();
			await tapPin(page, '1357');
			await page.getByTestId('pin-ok').tap();
			const bob = page.getByTestId('op-Bob');
			await bob.waitFor();
			assert.match(await bob.innerText(), /floor/i);
			await page.getByTestId('add-sheet').waitFor({ state: 'hidden' });
			await screenshot(page, 'operators.png');

			// Bob logs in: a floor operator sees no Operators tab.
			await logOut(page);
			await logIn(page, 'Bob', '1357');
			await page.locator('[data-testid=whoami][data-role=floor]').waitFor();
			await page.getByTestId('tab-account').waitFor();
			assert.equal(await page.getByTestId('tab-operators').count(), 0, 'no Operators tab for floor');
			await page.goto(leaf.url + '/operators', { waitUntil: 'domcontentloaded' });
			await page.getByTestId('operators-forbidden').waitFor();
			await waitLive(page);
		});
	});

	it('says setup is done once an admin exists', async () => {
		await withPage('setup-done-later', PHONE, async (page) => {
			await page.goto(leaf.url + '/setup', { waitUntil: 'domcontentloaded' });
			await page.getByTestId('setup-not-needed').waitFor();
			await page.getByTestId('setup-login').waitFor();
			await page.goto(leaf.url + '/display', { waitUntil: 'domcontentloaded' });
			await page.getByTestId('display-lobby').waitFor();
			await page.getByTestId('display-tod').waitFor();
			await screenshot(page, 'display-lobby-empty.png');
		});
	});
});
