/**
 * Reads the Dockerfile into what `npm run bench:image` reproduces without Docker: the deps stage's
 * `npm ci`, the build stage's commands, and the runtime stage's `COPY --from=` lines. Only the shape
 * this Dockerfile has is understood; anything else is a one-line error, so the measurement cannot
 * silently drift from the image.
 */

/** One instruction: the keyword upper-cased, its arguments as written (continuations joined). */
export interface Instruction {
  op: string;
  args: string;
}

/** One `FROM` and the instructions under it. */
export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** A runtime `COPY --from=STAGE SRC DEST`: SRC relative to that stage's WORKDIR, DEST to the runtime's. */
export interface RuntimeCopy {
  stage: string;
  /** The path inside the image the line copies from, as written (/app/node_modules). */
  source: string;
  /** The same path relative to that stage's WORKDIR (node_modules). */
  sourceInStage: string;
  /** Where it lands in the image (/app/node_modules). */
  target: string;
}

/** What the image holds and how each stage makes it, read from the Dockerfile. */
export interface ImagePlan {
  /** The runtime stage's base image (not fetched here). */
  base: string;
  /** The deps stage: the files it copies from the context, and its `npm ci` as argv (npm first). */
  deps: { name: string; contextFiles: string[]; install: string[] };
  /** The stage `dist` is copied from: its `npm ci` argv and the commands run after it (`npm run build`). */
  build: { name: string; contextFiles: string[]; install: string[]; commands: string[][] };
  copies: RuntimeCopy[];
}

/** The Dockerfile does not have the shape bench:image understands; the message is one line. */
export class DockerfileShapeError extends Error {}

function fail(problem: string): never {
  throw new DockerfileShapeError(`Dockerfile: ${problem} (bench/dockerfile.ts reads only that shape)`);
}

/** Splits a Dockerfile into stages of instructions (comments dropped, continuations joined). */
export function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: m?.[1] ?? args, name: m?.[2], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args });
    }
  }
  return stages;
}

/** The arguments of every instruction `op` in a stage. */
export function ops(stage: Stage, op: string): string[] {
  return stage.instructions.filter((i) => i.op === op).map((i) => i.args);
}

function named(stages: readonly Stage[], name: string): Stage {
  return stages.find((s) => s.name === name) ?? fail(`no stage named "${name}"`);
}

/** The stage's single WORKDIR, an absolute path. */
function workdir(stage: Stage): string {
  const dirs = ops(stage, 'WORKDIR');
  if (dirs.length !== 1 || !dirs[0]!.startsWith('/')) {
    fail(`stage "${stage.name ?? stage.from}" needs exactly one absolute WORKDIR, found ${dirs.length}`);
  }
  return dirs[0]!.replace(/\/$/, '');
}

/** Plain words only: a command bench:image runs without a shell must need none. */
function argv(command: string, stage: string): string[] {
  if (/[|&;<>$`"'\\(){}*?]/.test(command)) fail(`stage "${stage}" runs "${command}", which needs a shell`);
  return command.split(/\s+/);
}

/** The context files a stage copies (`COPY a b ./`), which must be relative and land in WORKDIR. */
function contextFiles(stage: Stage, name: string): string[] {
  return ops(stage, 'COPY').flatMap((args) => {
    const words = args.split(/\s+/);
    if (words.some((w) => w.startsWith('--'))) fail(`stage "${name}" has COPY with flags: "${args}"`);
    return words.slice(0, -1);
  });
}

/** A stage's RUN lines: one `npm ci`, first, then `npm run SCRIPT` only. */
function stageRuns(stage: Stage, name: string): { install: string[]; commands: string[][] } {
  const runs = ops(stage, 'RUN').map((r) => argv(r, name));
  const [install, ...rest] = runs;
  if (install?.[0] !== 'npm' || install[1] !== 'ci') {
    fail(`stage "${name}" must start with RUN npm ci, found "${install?.join(' ') ?? 'no RUN'}"`);
  }
  for (const c of rest) {
    if (c[0] !== 'npm' || c[1] !== 'run' || c.length !== 3) {
      fail(`stage "${name}" runs "${c.join(' ')}"; only npm run SCRIPT follows npm ci`);
    }
  }
  return { install, commands: rest };
}

/** One runtime `COPY --from=STAGE [--chown=..] SRC DEST`, with SRC under that stage's WORKDIR. */
function runtimeCopy(args: string, stages: readonly Stage[], runtimeDir: string): RuntimeCopy {
  const words = args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const paths = words.filter((w) => !w.startsWith('--'));
  const stage = /^--from=(\S+)$/.exec(flags.find((f) => f.startsWith('--from=')) ?? '')?.[1];
  if (stage === undefined) fail(`the runtime stage copies from the build context: "COPY ${args}"`);
  if (flags.some((f) => !/^--(from|chown)=/.test(f)) || paths.length !== 2) {
    fail(`the runtime stage has "COPY ${args}"; only COPY --from=STAGE [--chown=U:G] SRC DEST is read`);
  }
  const [source, dest] = paths as [string, string];
  const dir = workdir(named(stages, stage));
  if (!source.startsWith(`${dir}/`))
    fail(`"COPY ${args}" copies from outside stage ${stage}'s WORKDIR ${dir}`);
  const target = dest.startsWith('/') ? dest : `${runtimeDir}/${dest.replace(/^\.\//, '')}`;
  return { stage, source, sourceInStage: source.slice(dir.length + 1), target };
}

/** The plan bench:image follows, or a DockerfileShapeError naming what no longer fits. */
export function readImagePlan(text: string): ImagePlan {
  const stages = parseDockerfile(text);
  if (stages.length < 2)
    fail(`found ${stages.length} stage(s); a build stage and a runtime stage are needed`);
  const runtime = stages.at(-1)!;
  const unread = runtime.instructions.filter((i) => i.op === 'RUN' || i.op === 'ADD');
  if (unread.length > 0) fail(`the runtime stage has ${unread[0]!.op} "${unread[0]!.args}"`);
  const runtimeDir = workdir(runtime);
  const copies = ops(runtime, 'COPY').map((a) => runtimeCopy(a, stages, runtimeDir));
  const froms = [...new Set(copies.map((c) => c.stage))];
  if (!froms.includes('deps')) fail('the runtime stage copies nothing from a stage named "deps"');
  const others = froms.filter((f) => f !== 'deps');
  if (others.length !== 1)
    fail(`the runtime stage copies from ${others.length} stages besides deps, one is read`);
  const deps = named(stages, 'deps');
  const depsRuns = stageRuns(deps, 'deps');
  if (depsRuns.commands.length > 0) fail('stage "deps" runs more than npm ci');
  if (!depsRuns.install.includes('--omit=dev')) fail('stage "deps" runs npm ci without --omit=dev');
  const buildName = others[0]!;
  const build = named(stages, buildName);
  return {
    base: runtime.from,
    deps: { name: 'deps', contextFiles: contextFiles(deps, 'deps'), install: depsRuns.install },
    build: { name: buildName, contextFiles: contextFiles(build, buildName), ...stageRuns(build, buildName) },
    copies,
  };
}
