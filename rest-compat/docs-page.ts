// The API docs page: plain HTML and a small script that fetches the OpenAPI document and renders it,
// with a form per operation to try it. Nothing is loaded from elsewhere (offline machines, no CDN).

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}header p{margin:4px 0 0;color:#c9cfdb}
main{max-width:1100px;margin:0 auto;padding:16px 24px}h2{margin:28px 0 8px;font-size:17px;border-bottom:1px solid #d8dde6;padding-bottom:4px}
details.op{background:#fff;border:1px solid #d8dde6;border-radius:6px;margin:6px 0}details.op>summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:center}
.m{display:inline-block;min-width:62px;text-align:center;font-weight:700;font-size:12px;border-radius:4px;padding:3px 0;color:#fff}
.GET{background:#2f7dd1}.POST{background:#2e9d58}.DELETE{background:#c9413a}.path{font-family:ui-monospace,Menlo,Consolas,monospace}.sum{color:#5b6475}
.body{padding:4px 16px 14px;border-top:1px solid #eef0f4}pre{background:#f3f5f8;border:1px solid #e2e6ec;border-radius:4px;padding:8px;overflow:auto;max-height:360px;font-size:12px}
table{border-collapse:collapse}td,th{padding:3px 10px 3px 0;text-align:left;vertical-align:top}input,textarea{font:12px ui-monospace,Menlo,Consolas,monospace;width:100%;box-sizing:border-box}
textarea{min-height:110px}button{margin-top:8px;padding:5px 14px;cursor:pointer}.status{font-weight:700}.alias{font-size:12px;color:#8a5a00}
`;

const SCRIPT = `
(function () {
  var root = document.getElementById('root');
  var spec;
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) { if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); }
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  function resolve(schema, depth) {
    if (!schema || typeof schema !== 'object' || depth > 8) return schema;
    if (schema.$ref) {
      var parts = schema.$ref.replace('#/', '').split('/');
      var target = spec;
      parts.forEach(function (p) { target = target && target[p]; });
      return resolve(target, depth + 1);
    }
    var out = Array.isArray(schema) ? [] : {};
    for (var k in schema) out[k] = resolve(schema[k], depth + 1);
    return out;
  }
  function example(schema, depth) {
    schema = resolve(schema, 0);
    if (!schema || depth > 6) return null;
    if (schema.examples) return schema.examples[0];
    if (schema.const !== undefined) return schema.const;
    if (schema.enum) return schema.enum[0];
    var type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (type === 'object') {
      var o = {};
      var req = schema.required || [];
      for (var k in schema.properties || {}) if (req.indexOf(k) >= 0 || depth === 0) o[k] = example(schema.properties[k], depth + 1);
      return o;
    }
    if (type === 'array') return [example(schema.items, depth + 1)];
    if (type === 'integer' || type === 'number') return 0;
    if (type === 'boolean') return true;
    return 'string';
  }
  function tryIt(path, method, op) {
    var params = op.parameters || [];
    var inputs = {};
    var rows = params.map(function (p) {
      inputs[p.name] = el('input', { placeholder: p.in === 'path' ? 'required' : 'optional' });
      return el('tr', {}, [el('td', { text: p.name + ' (' + p.in + ')' }), el('td', {}, [inputs[p.name]])]);
    });
    var bodySchema = op.requestBody && op.requestBody.content['application/json'].schema;
    var body = bodySchema ? el('textarea', {}, [JSON.stringify(example(bodySchema, 0), null, 2)]) : null;
    var out = el('div');
    var button = el('button', { text: 'Send' });
    button.onclick = function () {
      var url = spec.servers[0].url + path.replace(/\\{(\\w+)\\}/g, function (_, n) { return encodeURIComponent(inputs[n].value); });
      var query = params.filter(function (p) { return p.in === 'query' && inputs[p.name].value; })
        .map(function (p) { return encodeURIComponent(p.name) + '=' + encodeURIComponent(inputs[p.name].value); });
      if (query.length) url += '?' + query.join('&');
      var init = { method: method.toUpperCase(), headers: {} };
      if (body) { init.headers['content-type'] = 'application/json'; init.body = body.value; }
      out.textContent = 'sending...';
      fetch(url, init).then(function (res) {
        var type = res.headers.get('content-type') || '';
        var head = el('p', {}, [el('span', { class: 'status', text: res.status + ' ' + res.statusText }), ' x-request-id: ' + res.headers.get('x-request-id')]);
        if (type.indexOf('image/') === 0) return res.blob().then(function (b) { out.replaceChildren(head, el('img', { src: URL.createObjectURL(b), alt: 'image' })); });
        return res.text().then(function (t) {
          try { t = JSON.stringify(JSON.parse(t), null, 2); } catch (e) {}
          out.replaceChildren(head, el('pre', { text: t }));
        });
      }).catch(function (e) { out.textContent = String(e); });
    };
    return el('div', {}, [el('h4', { text: 'Try it' }), rows.length ? el('table', {}, rows) : null, body, button, out]);
  }
  function render() {
    root.replaceChildren();
    document.getElementById('desc').textContent = spec.info.description + ' (version ' + spec.info.version + ')';
    var byTag = {};
    Object.keys(spec.paths).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        (byTag[op.tags[0]] = byTag[op.tags[0]] || []).push([path, method, op]);
      });
    });
    (spec.tags || []).forEach(function (tag) {
      var ops = byTag[tag.name] || [];
      root.appendChild(el('h2', { text: tag.name }));
      ops.forEach(function (entry) {
        var path = entry[0], method = entry[1], op = entry[2];
        var success = Object.keys(op.responses).filter(function (s) { return /^2/.test(s); })[0];
        var content = op.responses[success] && op.responses[success].content || {};
        var type = Object.keys(content)[0];
        var parts = [
          op.description ? el('p', { text: op.description }) : null,
          op.requestBody ? el('div', {}, [el('h4', { text: 'Request body (application/json)' }), el('pre', { text: JSON.stringify(resolve(op.requestBody.content['application/json'].schema, 0), null, 2) })]) : null,
          el('h4', { text: 'Response ' + success + ' (' + type + ')' }),
          el('pre', { text: JSON.stringify(resolve(content[type] && content[type].schema, 0), null, 2) }),
          el('p', { text: 'Errors: ' + Object.keys(op.responses).filter(function (s) { return !/^2/.test(s); }).join(', ') + ' as {success:false, error:{code, message, details}}' }),
          tag.name === 'Meta' ? null : tryIt(path, method, op)
        ];
        var summary = el('summary', {}, [el('span', { class: 'm ' + method.toUpperCase(), text: method.toUpperCase() }), el('span', { class: 'path', text: spec.servers[0].url + path }), el('span', { class: 'sum', text: op.summary })]);
        if (/Alias of/.test(op.description || '')) summary.appendChild(el('span', { class: 'alias', text: 'alias' }));
        root.appendChild(el('details', { class: 'op', id: op.operationId }, [summary, el('div', { class: 'body' }, parts)]));
      });
    });
  }
  fetch(document.body.getAttribute('data-openapi')).then(function (r) { return r.json(); }).then(function (s) { spec = s; render(); })
    .catch(function (e) { root.textContent = 'Could not load the OpenAPI document: ' + e; });
})();
`;

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderDocsPage(o: { openApiUrl: string; title: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(o.title)}</title><style>${STYLE}</style></head>
<body data-openapi="${escapeHtml(o.openApiUrl)}">
<header><h1>${escapeHtml(o.title)}</h1><p id="desc">Loading <a style="color:#fff" href="${escapeHtml(o.openApiUrl)}">${escapeHtml(o.openApiUrl)}</a> ...</p></header>
<main id="root"><noscript>This page needs JavaScript; the raw document is at <a href="${escapeHtml(o.openApiUrl)}">${escapeHtml(o.openApiUrl)}</a>.</noscript></main>
<script>${SCRIPT}</script>
</body></html>`;
}
