// The image's HEALTHCHECK: GET /health on the server's own port, with no curl in the image. Exit 0 when it
// answers 200 (healthy), 1 otherwise. With HEALTH_OPEN=false it sends the first plain API_KEY.
const port = process.env.PORT || '8080';
const key = (process.env.API_KEY || '').split(',').map((k) => k.trim()).find((k) => k && !k.startsWith('sha512:'));
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
    signal: AbortSignal.timeout(4000),
  });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
