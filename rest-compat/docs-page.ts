// The API docs page: Swagger UI (the exactly pinned `swagger-ui-dist` package) rendering the OpenAPI
// document, every file served by this server from node_modules, so the page works offline (no CDN).
// Its start-up script preauthorizes with the key the dashboard stored, when there is one.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The dashboard's localStorage key for the API key (dashboard/src/graphql.ts). */
const DASHBOARD_KEY = 'wa-gateway.apiKey';

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const START = `(function () {
  var body = document.body;
  var ui = SwaggerUIBundle({
    url: body.getAttribute('data-openapi'),
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    persistAuthorization: true,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    docExpansion: 'list',
    // No badge fetched from an online validator.
    validatorUrl: null,
    onComplete: function () {
      var key = null;
      try { key = localStorage.getItem(${JSON.stringify(DASHBOARD_KEY)}); } catch (e) {}
      if (key) ui.preauthorizeApiKey('ApiKeyHeader', key);
    }
  });
  window.ui = ui;
})();
`;

const STYLE = `body{margin:0;font-family:system-ui,sans-serif}
.wa-top{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.6rem 1.2rem;background:#128c7e;color:#fff}
.wa-top a{color:#fff}.wa-top strong{font-size:1.1rem;margin-right:auto}
.swagger-ui .wrapper{padding:0 12px}
.swagger-ui pre{white-space:pre-wrap;word-break:break-all}
@media (max-width:600px){.swagger-ui .response-col_links{display:none}.swagger-ui .response-col_status{width:3.5rem}.swagger-ui .responses-table td{padding-right:4px}.swagger-ui .wrapper{padding:0 6px}}
`;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderDocsPage(o: { openApiUrl: string; title: string; assetBase: string }): string {
  const a = escapeHtml(o.assetBase);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(o.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${a}/swagger-ui.css">
<link rel="stylesheet" href="${a}/wa-docs.css">
</head>
<body data-openapi="${escapeHtml(o.openApiUrl)}">
<nav class="wa-top"><strong>${escapeHtml(o.title)}</strong><a href="/">Dashboard</a><a href="/graphql">GraphiQL</a><a href="${escapeHtml(o.openApiUrl)}">openapi.json</a></nav>
<div id="swagger-ui"><noscript>This page needs JavaScript; the raw document is at <a href="${escapeHtml(o.openApiUrl)}">${escapeHtml(o.openApiUrl)}</a>.</noscript></div>
<script src="${a}/swagger-ui-bundle.js"></script>
<script src="${a}/wa-docs.js"></script>
</body></html>`;
}

interface Asset {
  type: string;
  body: () => Buffer;
}

function packageDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  } catch {
    return null;
  }
}

const fromPackage = (file: string, type: string): Asset => {
  let cached: Buffer | null = null;
  return {
    type,
    body: () => {
      const dir = packageDir();
      if (!dir) throw new Error('swagger-ui-dist is not installed (npm install)');
      return (cached ??= readFileSync(join(dir, file)));
    },
  };
};

const fromText = (text: string, type: string): Asset => {
  const bytes = Buffer.from(text);
  return { type, body: () => bytes };
};

/** The files under the docs page's asset path; nothing else of the package is reachable. */
const assets: Record<string, Asset> = {
  'swagger-ui.css': fromPackage('swagger-ui.css', 'text/css; charset=utf-8'),
  'swagger-ui-bundle.js': fromPackage('swagger-ui-bundle.js', 'text/javascript; charset=utf-8'),
  'wa-docs.js': fromText(START, 'text/javascript; charset=utf-8'),
  'wa-docs.css': fromText(STYLE, 'text/css; charset=utf-8'),
};

export interface DocsFile {
  status: number;
  body: string | Buffer;
  headers: Record<string, string>;
}

const common = { 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' };

/** The page itself. */
export function docsPageFile(html: string): DocsFile {
  return { status: 200, body: html, headers: { ...common, 'content-type': 'text/html; charset=utf-8' } };
}

/** A file under the asset path, or null when there is no such file. */
export function docsAsset(name: string): DocsFile | null {
  const asset = Object.hasOwn(assets, name) ? assets[name] : undefined;
  if (!asset) return null;
  try {
    return { status: 200, body: asset.body(), headers: { ...common, 'content-type': asset.type } };
  } catch (error) {
    return { status: 503, body: `${(error as Error).message}\n`, headers: { 'content-type': 'text/plain; charset=utf-8' } };
  }
}
