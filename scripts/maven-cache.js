/*
 * Directories under .cache/ that are built once from Maven Central and then reused (the broker's jars in
 * scripts/kafka, the Spring Boot Admin server in scripts/spring-boot-admin). A build goes into
 * `<dir>.partial-<pid>` and is moved into place whole, then marked `.complete`: an interrupted fetch never
 * leaves a half-filled cache behind, and two builds at once do not write into each other.
 * Plain CommonJS, like the scripts that use it.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** Runs a command with inherited output; throws "<what> failed (...)" when it cannot start or fails. */
function run(command, args, what) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error || result.status !== 0) {
    throw new Error(
      `${what} failed (${result.error ? result.error.message : `${command} exit ${result.status}`})`,
    );
  }
}

/** Copies the runtime dependencies of `pom` (and their own) from Maven Central into `outputDirectory`. */
function copyDependencies(pom, outputDirectory, what) {
  run(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      pom,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${outputDirectory}`,
    ],
    what,
  );
}

/**
 * Calls `build(staging)` and moves the result to `dir`, unless `dir` is already complete. Returns whether
 * it built. A failed build leaves nothing behind and rethrows.
 */
function buildOnce(dir, build) {
  const marker = path.join(dir, '.complete');
  if (fs.existsSync(marker)) {
    return false;
  }
  const staging = `${dir}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  try {
    build(staging);
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.renameSync(staging, dir);
  fs.writeFileSync(marker, new Date().toISOString());
  return true;
}

module.exports = { buildOnce, copyDependencies, run };
