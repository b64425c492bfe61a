// A tournament id in a path: a UUID (other /display/... paths fall through to the lobby).
/** @param {string} param */
export function match(param) {
	return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(param);
}
