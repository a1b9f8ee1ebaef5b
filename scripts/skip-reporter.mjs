// A node:test reporter that writes one JSON line per skipped test or suite (name, file, reason), so the
// runner can list them again after the summary, where nobody misses them.
export default async function* skipReporter(source) {
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.skip !== undefined) {
      const { name, file, skip } = event.data;
      yield `${JSON.stringify({ name, file, reason: skip === true ? '' : String(skip) })}\n`;
    }
  }
}
