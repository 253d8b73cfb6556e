/* global process */
// Preloaded into a child process: prints its peak resident memory when it exits, for the memory figures.
process.on('exit', () => {
  process.stderr.write(`\nPEAK_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
