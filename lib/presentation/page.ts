import { Html, html } from '#lib/presentation/html.ts';

/**
 * The page every HTML view is written into: the governance reports (files that open anywhere), the local
 * dashboard and its error pages. No script may run in any of them, styles are inline and images are data
 * only. A server sends `PAGE_CSP` as a header too, with what a meta tag cannot say (frame-ancestors).
 */

export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

export function htmlDocument(options: {
  title: string;
  /** The page's style sheet, written by the program (never from what was read). */
  style: string;
  body: Html;
  /** Who wrote the page, for a file found later (`<meta name="generator">`). */
  generator?: string;
  /** The page's policy, when not `PAGE_CSP` (the console's, which allows its one script). */
  csp?: string;
  /** What the page's relative links resolve against (`<base href>`): the console's root path. */
  base?: string;
  /** A script of the same origin, loaded deferred (never inline). */
  script?: string;
}): string {
  return `<!doctype html>\n${
    html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${new Html(options.csp ?? PAGE_CSP)}">
${options.base !== undefined && html`<base href="${options.base}">\n`}${options.generator !== undefined && html`<meta name="generator" content="${options.generator}">\n`}<title>${options.title}</title>
<style>${new Html(options.style)}</style>
${options.script !== undefined && html`<script src="${options.script}" defer></script>\n`}
</head>
<body>
${options.body}
</body>
</html>
`.value
  }`;
}
