// Single-page app: everything renders in the browser; the server answers
// unknown paths with index.html (adapter-static fallback).
export const ssr = false;
export const prerender = false;
