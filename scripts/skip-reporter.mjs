// A node:test reporter that writes one JSON line per skipped test or suite (name, file, reason), so the
// runner can list them again after the summary, where nobody misses them; and one line per count of the
// runner's closing summary (tests, pass, fail, ...), so the runner can add up several passes; and one line per
// top-level test or suite with its file and duration, so the runner can name the files that took longest.
const COUNT = /^(tests|suites|pass|fail|cancelled|skipped|todo) (\d+)$/;

export default async function* skipReporter(source) {
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.skip !== undefined) {
      const { name, file, skip } = event.data;
      yield `${JSON.stringify({ name, file, reason: skip === true ? '' : String(skip) })}\n`;
    } else if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      yield `${JSON.stringify({ timed: event.data.file, ms: Math.round(event.data.details?.duration_ms ?? 0) })}\n`;
    } else if (event.type === 'test:diagnostic' && event.data.nesting === 0 && !event.data.file) {
      const m = COUNT.exec(event.data.message);
      if (m) yield `${JSON.stringify({ count: m[1], n: Number(m[2]) })}\n`;
    }
  }
}
