// Makes the container suites' images ahead of them: `npm test` starts this in the background when those suites
// are selected and podman can run here, and runs the suites last, so they find the images made (or wait for
// the maker's lock) instead of spending their own time limit on a machine's first build or a rebuild after a
// change. Prints what it did; exit code 1 if making them failed (the suites then try again and report it).
import { gatewayImage, standIns } from './container.js';

const started = Date.now();
try {
  const made = await gatewayImage();
  const stand = await standIns(made.runtimeBase);
  for (const fact of [...made.facts, ...stand.facts]) console.log(`container images: ${fact}`);
  console.log(`container images: ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} catch (error) {
  console.error(`container images: ${(error as Error).message}`);
  process.exit(1);
}
