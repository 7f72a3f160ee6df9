#!/usr/bin/env node
/*
 * The programs the test suite runs besides Node, and the Debian packages that bring them. Jest's global
 * setup calls ensureTools() before anything else, so `npm install-ci-test` on a fresh Debian machine needs
 * nothing installed by hand: missing packages are installed with apt-get when this process is root or has
 * passwordless sudo; otherwise the run stops at once, naming the missing programs and the command that
 * installs them. `node scripts/ensure-tools.js` does the same from a shell (.ci/run calls it first), and
 * `npm run start:local` does it for Java and Maven only.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

/** Program → Debian (12, bookworm) package, and why the project needs it. */
const TOOLS = [
  { program: 'java', pkg: 'openjdk-17-jre-headless', why: 'runs the local Kafka broker' },
  {
    program: 'javac',
    pkg: 'openjdk-17-jdk-headless',
    why: 'compiles the Spring Boot Admin server the actuator test registers with',
  },
  { program: 'mvn', pkg: 'maven', why: 'fetches the Kafka jars from Maven Central' },
  { program: 'kcat', pkg: 'kcat', why: 'the independent client that reads back what landed in Kafka' },
  { program: 'prometheus', pkg: 'prometheus', why: 'scrapes the service in the observability tests' },
  { program: 'promtool', pkg: 'prometheus', why: 'checks the metrics exposition' },
  { program: 'openssl', pkg: 'openssl', why: 'makes the certificates of the SASL_SSL test broker' },
  { program: 'chromium', pkg: 'chromium', why: 'opens /api/docs in a real browser' },
  { program: 'curl', pkg: 'curl', why: "runs the documentation's curl examples against the live service" },
  {
    program: 'redis-server',
    pkg: 'redis-server',
    why: 'the shared Idempotency-Key store of the scale-out tests (started by the tests, not as a service)',
  },
];

/** Where Debian's chromium package puts the browser; the Swagger UI test drives it with playwright-core. */
const CHROMIUM_PATH = '/usr/bin/chromium';

function onPath(program) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, program), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The tools not on PATH (of `programs`, or of all TOOLS). */
function missingTools(programs) {
  return TOOLS.filter((tool) => (!programs || programs.includes(tool.program)) && !onPath(tool.program));
}

/** How to run apt-get here: directly as root, through passwordless sudo, or not at all (null). */
function aptRunner() {
  if (!onPath('apt-get')) {
    return null;
  }
  if (process.getuid?.() === 0) {
    return [];
  }
  if (onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) {
    return ['sudo', '-n'];
  }
  return null;
}

function describe(tools) {
  return tools.map((tool) => `${tool.program} (Debian package ${tool.pkg}: ${tool.why})`).join('\n  ');
}

/**
 * Installs the missing tools' packages with apt-get, or throws naming them. Returns the packages installed
 * (empty when everything was there: then it costs a PATH lookup per program). `programs` narrows the check
 * (start-local.js needs only java and mvn).
 */
function ensureTools({ programs, log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const missing = missingTools(programs);
  if (missing.length === 0) {
    return [];
  }
  const packages = [...new Set(missing.map((tool) => tool.pkg))];
  const runner = aptRunner();
  if (runner === null) {
    throw new Error(
      `The tests need programs that are not installed:\n  ${describe(missing)}\n` +
        `Install them (as root): apt-get install -y ${packages.join(' ')}`,
    );
  }
  log(`Installing the Debian packages the tests need: ${packages.join(' ')}`);
  const apt = (args) => {
    const [command, ...prefix] = [...runner, 'apt-get'];
    const result = spawnSync(command, [...prefix, ...args], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.error || result.status !== 0) {
      throw new Error(
        `apt-get ${args.join(' ')} failed (${result.error ? result.error.message : `exit ${result.status}`}); ` +
          `the tests need:\n  ${describe(missing)}`,
      );
    }
  };
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', '--no-install-recommends', ...packages]);
  const still = missingTools(programs);
  if (still.length > 0) {
    throw new Error(
      `apt-get installed ${packages.join(' ')}, but these are still not on PATH:\n  ${describe(still)}`,
    );
  }
  return packages;
}

module.exports = { ensureTools, missingTools, CHROMIUM_PATH, TOOLS };

if (require.main === module) {
  try {
    const installed = ensureTools();
    process.stderr.write(
      installed.length > 0
        ? `Installed: ${installed.join(' ')}\n`
        : 'Every tool the tests need is installed.\n',
    );
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
